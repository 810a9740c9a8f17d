/**
 * Scenario 6 of `npm run bench`: signed batches straight to the flusher at a number of concurrent
 * posters, optionally split over several flusher replicas on one catalog.
 */
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { FLUSH_CLIENT_PREFIX } from './flusher-batch.js';
import { runLoad } from './load.js';
import { mergeLoadResults, type LoadResult } from './load-spec.js';
import { PARAMS, type Ctx, type Mode, type ScenarioResult } from './scenarios.js';
import { startFlusher } from './stack.js';

/**
 * Scenario 6: signed batches of 500 deltas straight to the flusher. With 200 clients (4,200
 * distinct counter rows) concurrent batches rarely share rows, so a group merges little: the hard
 * case for the database. With 20 clients (420 rows) groups merge heavily, like many isolates
 * reporting the same hot client.
 */
export const flusherLevelId = (l: FlusherLevel): string =>
  `6-c${l.connections}${l.clients === 200 ? '' : `-k${l.clients}`}${l.replicas === 1 ? '' : `-r${l.replicas}`}${l.fillfactor === PRODUCT_FILLFACTOR ? '' : `-ff${l.fillfactor}`}`;

/** The counter tables' fillfactor as migration 0005 sets it; the twin at 100 shows what it buys. */
export const PRODUCT_FILLFACTOR = 50;

/** Scenario 6's single-replica levels at the product's fillfactor for `clients` (the curve and target 4 read these). */
export function productFlusherLevels(results: readonly ScenarioResult[], clients: string): ScenarioResult[] {
  return results.filter(
    (r) =>
      r.group === 6 &&
      r.flusher &&
      (r.flusher.replicas ?? 1) === 1 &&
      (r.vars.fillfactor ?? String(PRODUCT_FILLFACTOR)) === String(PRODUCT_FILLFACTOR) &&
      r.vars.clients === clients,
  );
}

export type FlusherLevel = { connections: number; clients: number; replicas: number; fillfactor: number };

/** Scenario 6's levels; a twin (2 replicas, or fillfactor 100) runs right after its plain level, so both see the same machine load. */
export function flusherLevels(mode: Mode): FlusherLevel[] {
  const p = PARAMS[mode];
  const has = (list: readonly (readonly [number, number])[], c: number, k: number) => list.some(([a, b]) => a === c && b === k);
  return p.flusherLevels.flatMap(([connections, clients]) => {
    const plain = { connections, clients, replicas: 1, fillfactor: PRODUCT_FILLFACTOR };
    return [
      plain,
      ...(has(p.flusherReplicaLevels, connections, clients) ? [{ ...plain, replicas: 2 }] : []),
      ...(has(p.flusherFillfactorLevels, connections, clients) ? [{ ...plain, fillfactor: 100 }] : []),
    ];
  });
}

export async function runFlusherScenario(ctx: Ctx, level: FlusherLevel): Promise<ScenarioResult> {
  const { connections, clients, replicas, fillfactor } = level;
  const p = PARAMS[ctx.mode];
  const deltasPerBatch = 500;
  const base: ScenarioResult = {
    id: flusherLevelId(level),
    group: 6,
    title: `flusher ingest, ${connections} concurrent posters, ${clients} clients${replicas === 1 ? '' : `, ${replicas} replicas`}${fillfactor === PRODUCT_FILLFACTOR ? '' : `, fillfactor ${fillfactor}`}`,
    request: 'POST /v1/batches',
    connections,
    durationMs: p.flusherLevelMs,
    vars: { deltasPerBatch: String(deltasPerBatch), clients: String(clients), replicas: String(replicas), fillfactor: String(fillfactor) },
  };
  // Extra replicas on the same catalog, for this scenario only; posters are split evenly over all.
  const extra = await Promise.all(Array.from({ length: replicas - 1 }, () => startFlusher(ctx.stack.catalogUrl, ctx.signingSecret)));
  try {
    const flushers = [ctx.flusher, ...extra];
    await ctx.catalog.resetCounters();
    await ctx.catalog.setFillfactor(fillfactor);
    await ctx.probe.resetStatements();
    const roots: Record<string, number | undefined> = { postgres: ctx.stack.postgresPid };
    flushers.forEach((f, i) => {
      roots[i === 0 ? 'flusher' : `flusher-${i + 1}`] = f.child.pid;
    });
    const cpuBefore = cpuSnapshot(roots);
    const sampler = ctx.probe.sampleLocks(100);
    let load: LoadResult;
    try {
      const loads = await Promise.all(
        flushers.map((f, i) =>
          runLoad({
            baseUrl: f.url,
            connections: Math.floor(connections / replicas) + (i < connections % replicas ? 1 : 0),
            durationMs: p.flusherLevelMs,
            request: { method: 'POST', path: '/v1/batches' },
            flusherBatch: { secret: ctx.signingSecret, deltasPerBatch, clients },
            tail: { method: 'GET', path: '/healthz' },
            drainCapMs: 10_000,
            timeoutSec: 10,
          }),
        ),
      );
      load = mergeLoadResults(loads);
    } finally {
      base.locks = await sampler.stop();
    }
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(roots), 'orchestrator+ws-proxy');
    cpu.cpuSeconds['load-generator'] = load.cpuSeconds;
    const sums = await ctx.catalog.sums(`${FLUSH_CLIENT_PREFIX}%`);
    const ledger = await ctx.catalog.flushBatches();
    const statements = await ctx.probe.statements();
    const acked = load.deltasAcked ?? 0;
    const dbDeltas = sums.requests + sums.tableRequests;
    return {
      ...base,
      load,
      statements,
      cpu,
      flusher: {
        replicas,
        deltasPerSecond: Math.round((acked * 1000) / Math.max(p.flusherLevelMs, load.lastResponseMs)),
        ackP99Ms: load.latencyMs.p99,
        batches: ledger.batches,
        deltasAcked: acked,
        dbDeltas,
        exact: dbDeltas === acked,
      },
    };
  } finally {
    if (fillfactor !== PRODUCT_FILLFACTOR) await ctx.catalog.setFillfactor(PRODUCT_FILLFACTOR);
    await Promise.all(extra.map((f) => f.stop().catch(() => undefined)));
  }
}
