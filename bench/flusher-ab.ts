/**
 * `npx tsx bench/flusher-ab.ts --variants=base=<checkout>,new=. [--levels=16x200,32x20] [--rounds=4] [--ms=5000]`:
 * two (or more) flusher builds on one Postgres, in alternating rounds (the order flips every
 * round), so a code change is judged against its baseline under the same machine load. A variant
 * is `name=<checkout dir>[=VAR:value;VAR:value]` (a baseline is e.g. `git worktree add` or
 * `git archive <ref> | tar -x -C <dir>` with node_modules linked). Per round and level: deltas/s,
 * ack p50/p99, flusher CPU µs per batch, commits and their mean duration and group size (from
 * the flusher's /metrics), exactness. Prints lines and writes `bench/results/flusher-ab-<stamp>.txt`.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../dev/ports.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { openCatalog } from './db-probes.js';
import { FLUSH_CLIENT_PREFIX } from './flusher-batch.js';
import { runLoad } from './load.js';
import { startChild, stopAll, waitFor } from './processes.js';
import { startStack } from './stack.js';
import { ROOT } from './workerd.js';
import { z } from 'zod';
import { helpText, scriptArgs, valueFlag, wholeNumber } from '../cli/flags.js';

const levelList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.split('x').map(Number)))
  .refine((ls) => ls.every((l) => l.length === 2 && l.every((n) => Number.isInteger(n) && n > 0)), 'a comma list of <posters>x<clients>, e.g. 16x200,32x20')
  .transform((ls) => ls as [number, number][]);

const spec = {
  helpCommand: '--help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments'),
  flags: {
    variants: valueFlag(
      '<name=dir,…>',
      'the flusher builds: name=<checkout dir>[=VAR:value;VAR:value], comma separated (default: new=.)',
      z.string().default('new=.'),
    ),
    levels: valueFlag(
      '<PxC,…>',
      'load levels: concurrent posters x clients (default: 16x200,32x20)',
      levelList.default([
        [16, 200],
        [32, 20],
      ]),
    ),
    rounds: valueFlag('<n>', 'alternating rounds (default: 4)', wholeNumber(4)),
    ms: valueFlag('<ms>', 'milliseconds per level (default: 5000)', wholeNumber(5000)),
  },
};
const HELP = helpText({
  usage: 'npx tsx bench/flusher-ab.ts --variants=base=<checkout>,new=. [--levels=16x200,32x20] [--rounds=4] [--ms=5000]',
  about: 'Two or more flusher builds on one Postgres, in alternating rounds.',
  flags: spec.flags,
});
const SECRET = 'flusher-ab-signing-secret-0123456789';

type Variant = { name: string; root: string; env: Record<string, string> };
type Flusher = { url: string; pid: number | undefined };
type Scrape = { commitSeconds: number; commits: number; groupBatches: number; groups: number };

function parseVariants(spec: string): Variant[] {
  return spec.split(',').map((s) => {
    const [name = '', root = '.', env = ''] = s.split('=');
    const pairs = env
      .split(';')
      .filter(Boolean)
      .map((kv) => kv.split(':') as [string, string]);
    return { name, root: resolve(root), env: Object.fromEntries(pairs) };
  });
}

async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (metric: string) => Number(new RegExp(`^${metric} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    commitSeconds: value('flusher_commit_duration_seconds_sum'),
    commits: value('flusher_commit_duration_seconds_count'),
    groupBatches: value('flusher_group_size_batches_sum'),
    groups: value('flusher_group_size_batches_count'),
  };
}

async function startVariant(v: Variant, catalogUrl: string): Promise<Flusher> {
  const port = await freePort();
  const child = startChild(`flusher-${v.name}`, process.execPath, ['--import', 'tsx', join(v.root, 'flusher', 'index.ts')], {
    cwd: v.root,
    env: { ...process.env, ...v.env, DATABASE_URL: catalogUrl, FLUSH_SIGNING_SECRET: SECRET, FLUSHER_PORT: String(port), FLUSHER_HOST: '127.0.0.1' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`flusher ${v.name} on ${url}`, async () => (await fetch(`${url}/healthz`)).ok, 30_000, child);
  return { url, pid: child.pid };
}

async function main(): Promise<number> {
  const args = scriptArgs(process.argv.slice(2), spec, HELP);
  if (typeof args === 'number') return args;
  const { levels, rounds, ms } = args;
  const variants = parseVariants(args.variants);
  const stack = await startStack(console.log);
  const catalog = await openCatalog(stack.catalogUrl);
  const lines: string[] = [`variants ${variants.map((v) => `${v.name}=${v.root}`).join(' ')}; ${ms} ms per level; 500 deltas per batch`];
  try {
    const flushers = new Map<string, Flusher>();
    for (const v of variants) flushers.set(v.name, await startVariant(v, stack.catalogUrl));
    for (let r = 0; r < rounds; r++) {
      for (const [connections, clients] of levels) {
        for (const v of r % 2 ? [...variants].reverse() : variants) {
          const f = flushers.get(v.name) as Flusher;
          await catalog.resetCounters();
          const m0 = await scrape(f.url);
          const before = cpuSnapshot({ flusher: f.pid, postgres: stack.postgresPid });
          const load = await runLoad({
            baseUrl: f.url,
            connections,
            durationMs: ms,
            request: { method: 'POST', path: '/v1/batches' },
            flusherBatch: { secret: SECRET, deltasPerBatch: 500, clients },
            tail: { method: 'GET', path: '/healthz' },
            drainCapMs: 10_000,
            timeoutSec: 10,
          });
          const cpu = cpuBetween(before, cpuSnapshot({ flusher: f.pid, postgres: stack.postgresPid }), 'orchestrator');
          const m1 = await scrape(f.url);
          const sums = await catalog.sums(`${FLUSH_CLIENT_PREFIX}%`);
          const acked = load.deltasAcked ?? 0;
          const batches = load.byStatus['200'] ?? 0;
          const commits = Math.max(1, m1.commits - m0.commits);
          const line =
            `round ${r} ${v.name} ${connections} posters ${clients} clients: ${Math.round((acked * 1000) / Math.max(ms, load.lastResponseMs))} deltas/s, ` +
            `ack p50 ${load.latencyMs.p50} p99 ${load.latencyMs.p99} ms, ${batches} batches, flusher ${Math.round(((cpu.cpuSeconds.flusher ?? 0) * 1e6) / Math.max(1, batches))} µs CPU/batch ` +
            `(${cpu.cores.flusher} cores), commits ${m1.commits - m0.commits} mean ${(((m1.commitSeconds - m0.commitSeconds) * 1000) / commits).toFixed(1)} ms ` +
            `group ${((m1.groupBatches - m0.groupBatches) / Math.max(1, m1.groups - m0.groups)).toFixed(1)} batches, exact ${sums.requests + sums.tableRequests === acked}, ` +
            `status ${JSON.stringify(load.byStatus)}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;
          console.log(line);
          lines.push(line);
        }
      }
    }
  } finally {
    await catalog.end();
    await stopAll();
    await stack.stop();
  }
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `flusher-ab-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(`written ${file} (git ${execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim()})`);
  return 0;
}

process.exit(await main());
