/**
 * Which runtime the bench uses: the same bundle's bare `/health` under `workerd serve` (generated
 * config) and under Miniflare's own server, measured back to back with the same load. The bench
 * then runs every scenario on `workerd serve`; this check records why (full runs only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { freePort } from '../dev/ports.js';
import { runLoad } from './load.js';
import type { LoadResult } from './load-spec.js';
import { startWorkerd, type Bundle } from './workerd.js';

export type RuntimeCheck = { workerdServe: LoadResult; miniflare: LoadResult; chosen: 'workerd serve' };

/** Bare-route throughput on both runtimes with `connections` for `durationMs` each. */
export async function compareRuntimes(bundle: Bundle, vars: Record<string, string>, connections: number, durationMs: number): Promise<RuntimeCheck> {
  const load = (baseUrl: string) =>
    runLoad({
      baseUrl,
      connections,
      durationMs,
      request: { method: 'GET', path: '/health' },
      tail: { method: 'GET', path: '/' },
      drainCapMs: 2000,
      timeoutSec: 10,
    });

  const workerd = await startWorkerd(bundle, await freePort(), vars, 'workerd-runtime-check');
  let workerdServe: LoadResult;
  try {
    workerdServe = await load(workerd.url);
  } finally {
    await workerd.stop();
  }

  const port = await freePort();
  const env = Object.fromEntries(Object.entries({ ...bundle.defaultVars, ...vars }).map(([k, v]) => [k, { type: 'text' as const, value: v }]));
  const mf = new Miniflare({
    host: '127.0.0.1',
    port,
    workers: [
      {
        config: {
          name: 'gateway',
          compatibilityDate: bundle.compatibilityDate,
          compatibilityFlags: bundle.compatibilityFlags,
          manifest: { mainModule: 'index.js', modules: { 'index.js': { type: 'esm', contents: readFileSync(join(bundle.dir, 'index.js'), 'utf8') } } },
          env,
        },
      },
    ],
  });
  let miniflare: LoadResult;
  try {
    const url = await mf.ready;
    miniflare = await load(`http://127.0.0.1:${url.port}`);
  } finally {
    await mf.dispose();
  }
  return { workerdServe, miniflare, chosen: 'workerd serve' };
}
