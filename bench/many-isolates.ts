/**
 * Scenario 10: the starvation scenario (5) across several isolates — N `workerd serve` processes,
 * one isolate each, every one with scenario 5's vars (`DB_POOL_MAX=8`, …) against one Postgres,
 * the connections and the injected key-cache misses split evenly over them. Production runs many
 * isolates per region writing the same hot rows; this is where row locks on the one hot
 * `client_statistics` row can queue writers (lock waits in pg_stat_activity) while they hold
 * permits. Reports, per sink, what scenario 5 does plus the flushes per isolate and the Postgres
 * connections seen against the capacity rule of docs/operations.md (isolates × DB_POOL_MAX).
 */
import { freePort } from '../dev/ports.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { runLoad } from './load.js';
import { mergeLoadResults, type LoadResult } from './load-spec.js';
import { sleep } from '../dev/process-group.js';
import { distanceVars, gatewayScenarios, PARAMS, STARVATION, workerVars, type Ctx, type GatewayScenario, type ScenarioResult } from './scenarios.js';
import { BENCH_RTT_MS } from './stack.js';
import { admin, settleCounters, trimStatus } from './settle.js';
import { startWorkerd, type Workerd } from './workerd.js';

export type IsolateFigures = {
  isolates: number;
  /** Connections the capacity rule allows the gateway: isolates × DB_POOL_MAX (the flusher's pool comes on top). */
  capacity: number;
  maxConnections: number;
  /** Counter statements per table per flush per isolate, worst table (≤ 1 is the target). */
  counterStatementsPerFlush: number | null;
  statuses: unknown[];
};

/** The sinks compared, in run order. */
export const MANY_ISOLATE_SINKS = ['per_request', 'flusher', 'direct'] as const;

async function warm(ctx: Ctx, s: GatewayScenario, ws: readonly Workerd[]): Promise<string | undefined> {
  for (const w of ws) {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${w.url}${s.request.path}`, { method: s.request.method, headers: s.request.headers ?? {} });
      if (!res.ok) return `warm-up answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
    }
    await admin(w, ctx, 'POST', '/__gateway/flush');
  }
  await sleep(300);
  await ctx.catalog.resetCounters();
  await ctx.probe.resetStatements();
  return undefined;
}

async function load(ctx: Ctx, s: GatewayScenario, ws: readonly Workerd[]): Promise<LoadResult> {
  const n = ws.length;
  const parts = await Promise.all(
    ws.map((w, i) =>
      runLoad({
        baseUrl: w.url,
        connections: Math.floor(s.connections / n) + (i < s.connections % n ? 1 : 0),
        durationMs: PARAMS[ctx.mode].durationMs,
        request: s.request,
        tail: { method: 'GET', path: '/health' },
        drainCapMs: 5_000,
        timeoutSec: 10,
        injectMisses: { name: 'apikey', values: ctx.seeded.missKeys, perSecond: STARVATION.missesPerSecond / n },
      }),
    ),
  );
  return mergeLoadResults(parts);
}

/** Scenario 10 for one sink over `isolates` workerd processes. */
export async function runManyIsolates(ctx: Ctx, sink: GatewayScenario['sink'], isolates: number, distant = false): Promise<ScenarioResult> {
  const suffix = distant ? `-rtt${BENCH_RTT_MS}` : '';
  const s = gatewayScenarios(ctx.mode, ctx.seeded).find((x) => x.id === `5-${sink}${suffix}`);
  if (!s) throw new Error(`no scenario 5 for sink ${sink}${suffix}`);
  const vars = workerVars(ctx, s);
  const title = `starvation over ${isolates} isolates, ${sink}${distant ? `, ${BENCH_RTT_MS} ms RTT` : ''}`;
  const base: ScenarioResult = {
    id: `10-${sink}${suffix}`,
    group: 10,
    title,
    request: `${s.request.method} ${s.request.path}`,
    connections: s.connections,
    durationMs: PARAMS[ctx.mode].durationMs,
    vars: {
      STATS_SINK: sink,
      ...STARVATION.vars,
      DB_TRANSPORT: vars.DB_TRANSPORT ?? ctx.bundle.defaultVars.DB_TRANSPORT ?? '',
      isolates: String(isolates),
      ...distanceVars(s),
    },
  };
  const ws: Workerd[] = [];
  try {
    for (let i = 0; i < isolates; i++) ws.push(await startWorkerd(ctx.bundle, await freePort(), vars, `workerd-10-${sink}${suffix}-${i + 1}`));
    const refused = await warm(ctx, s, ws);
    if (refused) return { ...base, skipped: refused };
    const roots: Record<string, number | undefined> = { postgres: ctx.stack.postgresPid, flusher: ctx.flusher.child.pid };
    ws.forEach((w, i) => {
      roots[`workerd-${i + 1}`] = w.child.pid;
    });
    const before = cpuSnapshot(roots);
    const sampler = ctx.probe.sampleLocks(100);
    let result: LoadResult;
    try {
      result = await load(ctx, s, ws);
    } finally {
      base.locks = await sampler.stop();
    }
    const cpu = cpuBetween(before, cpuSnapshot(roots), 'orchestrator+ws-proxy');
    // One "workerd" figure for the per-request CPU column: the isolates together.
    cpu.cpuSeconds.workerd = Object.entries(cpu.cpuSeconds).reduce((n, [k, v]) => (k.startsWith('workerd-') ? n + v : n), 0);
    cpu.cpuSeconds['load-generator'] = result.cpuSeconds;
    const counters = await settleCounters(ctx, ws, result.byStatus, PARAMS[ctx.mode].settleCapMs);
    const statements = await ctx.probe.statements();
    const statuses = await Promise.all(ws.map(async (w) => trimStatus(await admin(w, ctx, 'GET', '/__gateway/status'))));
    const worstTable = Math.max(statements.clientStatistics, statements.clientTableStatistics, statements.apiKeysLastUsed);
    const isolateFigures: IsolateFigures = {
      isolates,
      capacity: isolates * Number(STARVATION.vars.DB_POOL_MAX),
      maxConnections: base.locks.maxConnections,
      counterStatementsPerFlush: counters.flushes ? +(worstTable / counters.flushes).toFixed(3) : null,
      statuses,
    };
    return { ...base, load: result, statements, cpu, counters, isolates: isolateFigures };
  } finally {
    await Promise.all(ws.map((w) => w.stop().catch(() => undefined)));
  }
}
