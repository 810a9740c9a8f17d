/**
 * `npx tsx bench/flusher-fleet.ts [--batches=600] [--rounds=4] [--concurrency=4]`: what the isolate
 * snapshot costs a flush (docs/counters.md "The snapshot"). One flusher process on a fresh
 * Postgres takes the same worker-sized batches with and without a snapshot, in alternating rounds
 * (the order flips every round) so both see the same machine load. Per variant: bytes per batch,
 * flusher CPU µs per batch (its process tree, from /proc), wall ms per batch; every batch must be
 * answered `applied`. Prints lines and writes `bench/results/flusher-fleet-<stamp>.{json,txt}`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Batch } from '../drizzle/batch.js';
import type { IsolateSnapshot } from '../drizzle/fleet-snapshot.js';
import { signBatch } from '../crypto/batch-signing.js';
import { createFleetMeter } from '../worker/fleet/meter.js';
import { cpuSnapshot, TICKS_PER_SECOND } from './cpu.js';
import { stopAll } from './processes.js';
import { startFlusher, startStack } from './stack.js';
import { ROOT } from './workerd.js';
import { z } from 'zod';
import { helpText, scriptArgs, valueFlag, wholeNumber } from '../cli/flags.js';
import { median } from './percentile.js';

const spec = {
  helpCommand: '--help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments'),
  flags: {
    batches: valueFlag('<n>', 'batches per variant and round (default: 600)', wholeNumber(600)),
    rounds: valueFlag('<n>', 'alternating rounds (default: 4)', wholeNumber(4)),
    concurrency: valueFlag('<n>', 'batches in flight at once (default: 4)', wholeNumber(4)),
  },
};
const HELP = helpText({
  usage: 'npx tsx bench/flusher-fleet.ts [--batches=600] [--rounds=4] [--concurrency=4]',
  about: 'What the isolate snapshot costs a flush: the same batches with and without one, in alternating rounds.',
  flags: spec.flags,
});
const SECRET = 'flusher-fleet-bench-signing-secret';
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

type Variant = 'without' | 'with';
type Round = { variant: Variant; batches: number; bytes: number; cpuTicks: number; wallMs: number; applied: number };

/** An isolate's snapshot after a realistic mix of traffic: three families, two targets, a few refusal codes. */
function sampleSnapshot(n: number): IsolateSnapshot {
  const meter = createFleetMeter('benchisolate');
  for (let i = 0; i < 500; i++) {
    meter.record('fetch', i % 50 === 0 ? 503 : i % 20 === 0 ? 401 : 200, (i * 7) % 300);
    if (i % 3 === 0) meter.record('insert', 201, (i * 11) % 900);
    if (i % 10 === 0) meter.record('verify', 200, i % 5);
  }
  const start = Date.now() - 600_000;
  return {
    isolate_id: 'benchisolate',
    started_at: new Date(start).toISOString(),
    at: new Date(start + 600_000 + n).toISOString(),
    uptime_ms: 600_000 + n,
    budgets: [
      { target: '127.0.0.1:5432/gateway_bench', in_use: 1, size: 8, waiting: 0, slow_acquires: 3, timeouts: 0, acquired: 12_000 + n },
      {
        target: 'ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb',
        in_use: 6,
        size: 8,
        waiting: 2,
        slow_acquires: 41,
        timeouts: 7,
        acquired: 90_000 + n,
      },
    ],
    refusals: { invalid_api_key: 120 + n, database_busy: 7, database_unavailable: 3, rate_limited: 55, scope_denied: 2 },
    routes: meter.routes(),
    telemetry: { accepted: 9000 + n, dropped: { saturated: 12, unavailable: 0, failed: 1 } },
  };
}

/** A worker-sized flush: 2 clients, 6 client × table × operation rows, 4 keys. */
function batch(n: number, withSnapshot: boolean): Batch {
  const at = new Date().toISOString();
  const b: Batch = {
    batch_id: crypto.randomUUID(),
    source: 'worker:benchiso',
    created_at: at,
    clients: ['fleetbench-a', 'fleetbench-b'].map((client_name) => ({ client_name, requests: 40, errors: 1, last_seen: at })),
    tables: ['orders', 'users', 'events'].flatMap((table_name) =>
      (['read', 'insert'] as const).map((operation) => ({
        client_name: 'fleetbench-a',
        table_name,
        operation,
        requests: 10,
        errors: 0,
        duration_ms: 42,
        last_seen: at,
      })),
    ),
    keys: [],
  };
  return withSnapshot ? { ...b, snapshot: sampleSnapshot(n) } : b;
}

async function runRound(url: string, pid: number | undefined, variant: Variant, batches: number, concurrency: number): Promise<Round> {
  let next = 0;
  let bytes = 0;
  let applied = 0;
  const before = cpuSnapshot({ flusher: pid });
  const t0 = performance.now();
  const poster = async () => {
    for (let i = next++; i < batches; i = next++) {
      const body = JSON.stringify(batch(i, variant === 'with'));
      bytes += Buffer.byteLength(body);
      const headers = { ...(await signBatch(SECRET, body, Date.now())), 'content-type': 'application/json' };
      const res = await fetch(`${url}/v1/batches`, { method: 'POST', headers, body });
      const answer = (await res.json()) as { status?: string };
      if (answer.status === 'applied') applied++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, poster));
  const wallMs = performance.now() - t0;
  const after = cpuSnapshot({ flusher: pid });
  return { variant, batches, bytes, cpuTicks: (after.ticks.flusher ?? 0) - (before.ticks.flusher ?? 0), wallMs, applied };
}

async function main(): Promise<number> {
  const args = scriptArgs(process.argv.slice(2), spec, HELP);
  if (typeof args === 'number') return args;
  const { batches, rounds, concurrency } = args;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const stack = await startStack(log);
  const flusher = await startFlusher(stack.catalogUrl, SECRET);
  const results: Round[] = [];
  try {
    // Warm-up: JIT and pool connections, not measured.
    await runRound(flusher.url, flusher.child.pid, 'with', 100, concurrency);
    await runRound(flusher.url, flusher.child.pid, 'without', 100, concurrency);
    for (let r = 0; r < rounds; r++) {
      const order: Variant[] = r % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
      for (const v of order) {
        const round = await runRound(flusher.url, flusher.child.pid, v, batches, concurrency);
        results.push(round);
        log(
          `round ${r + 1} ${v}: ${(round.bytes / batches).toFixed(0)} B/batch, flusher ${(((round.cpuTicks / TICKS_PER_SECOND) * 1e6) / batches).toFixed(0)} µs CPU/batch, ${(round.wallMs / batches).toFixed(2)} ms/batch, applied ${round.applied}/${batches}`,
        );
      }
    }
    const fleet = (await (await fetch(`${flusher.url}/fleet`)).json()) as { totals: { isolates: number } };
    const summary = (['without', 'with'] as const).map((variant) => {
      const rs = results.filter((r) => r.variant === variant);
      const n = rs.reduce((a, r) => a + r.batches, 0);
      return {
        variant,
        batches: n,
        bytesPerBatch: Math.round(rs.reduce((a, r) => a + r.bytes, 0) / n),
        flusherCpuUsPerBatch: Math.round((rs.reduce((a, r) => a + r.cpuTicks, 0) / TICKS_PER_SECOND / n) * 1e6),
        // The median round: one round disturbed by the machine's other work moves it least.
        medianRoundCpuUsPerBatch: Math.round(median(rs.map((r) => (r.cpuTicks / TICKS_PER_SECOND / r.batches) * 1e6))),
        wallMsPerBatch: Number((rs.reduce((a, r) => a + r.wallMs, 0) / n).toFixed(3)),
        exact: rs.every((r) => r.applied === r.batches),
      };
    });
    const [without, withSnap] = summary;
    const lines = [
      `flusher-fleet: ${rounds} alternating rounds × ${batches} batches per variant, concurrency ${concurrency}; load average at start ${load}`,
      ...summary.map(
        (s) =>
          `${s.variant.padEnd(8)} snapshot: ${s.bytesPerBatch} B/batch, flusher CPU ${s.flusherCpuUsPerBatch} µs/batch (median round ${s.medianRoundCpuUsPerBatch}), wall ${s.wallMsPerBatch} ms/batch, every batch applied: ${s.exact}`,
      ),
      `ratio with/without: bytes ${(Number(withSnap?.bytesPerBatch) / Number(without?.bytesPerBatch)).toFixed(2)}×, flusher CPU ${(Number(withSnap?.flusherCpuUsPerBatch) / Number(without?.flusherCpuUsPerBatch)).toFixed(2)}×; isolates in /fleet: ${fleet.totals.isolates}`,
      `load average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ];
    for (const l of lines) console.log(l);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `flusher-fleet-${stamp}.json`), `${JSON.stringify({ rounds: results, summary, loadAtStart: load }, null, 2)}\n`);
    writeFileSync(join(dir, `flusher-fleet-${stamp}.txt`), `${lines.join('\n')}\n`);
  } finally {
    await flusher.stop().catch(() => undefined);
    await stack.stop();
    await stopAll();
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
