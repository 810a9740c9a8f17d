/**
 * Serves the gateway worker over real HTTP on 127.0.0.1 from Node — wrangler's dev server
 * (`unstable_startWorker`): wrangler.toml, bundled as `wrangler dev` bundles it, in workerd — so
 * Node-side clients such as the `@xylex-group/athena` SDK can call it. `bindings` override the
 * wrangler.toml vars and a local `.dev.vars` (which wrangler still reads), so callers pass every
 * var their test depends on.
 * (wrangler's `createTestHarness` is not used: its outbound path refuses WebSocket upgrades,
 * which the Neon driver needs.)
 */
import { unstable_startWorker } from 'wrangler';
import { fileURLToPath } from 'node:url';

export type WorkerServer = { url: string; close(): Promise<void> };

const CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url));

/**
 * Starts the worker with `bindings` (vars and secrets alike); `close()` stops it. WebSocket
 * sessions unless `bindings` name DB_TRANSPORT: the served tests count sessions, connections and
 * cancel requests on that path; test/integration/transport-served.test.ts serves both transports.
 */
export async function startWorkerServer(bindings: Record<string, string>): Promise<WorkerServer> {
  bindings = { DB_TRANSPORT: 'ws', ...bindings };
  // Offline: no download of the `Request.cf` sample object (as `npm run dev` does).
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  const worker = await unstable_startWorker({
    config: CONFIG,
    bindings: Object.fromEntries(Object.entries(bindings).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, remote: false, logLevel: 'error' },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, '');
  return { url, close: () => worker.dispose() };
}
