/**
 * Short load rounds against ONE workerd (one warm isolate), each with its own request and
 * connection count, CPU of workerd measured per round. Two uses:
 * - the auth-overhead ratio: scenario 1 and 2 in alternating round pairs, odd pairs reversed
 *   (1, 2, 2, 1, 1, 2, …), so machine noise and drift land on both alike; the ratio is the median
 *   over the pairs, by req/s and by worker CPU per request;
 * - the scaling curve: scenario 2 at 16, 64 and 256 connections.
 * Before the measured rounds, each distinct request runs one unmeasured round: a cold isolate's
 * first round (JIT not yet warm) ran at about half the later rate and skewed its pair.
 */
import { freePort } from '../dev/ports.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec } from './load-spec.js';
import { sleep } from '../dev/process-group.js';
import { gatewayScenarios, PARAMS, workerVars, type Ctx, type GatewayScenario, type ScenarioResult } from './scenarios.js';
import { startWorkerd, type Bundle, type Workerd } from './workerd.js';
import { median } from './percentile.js';

export type Round = { label: string; request: HttpRequestSpec; connections: number };
export type RoundFigures = {
  label: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  cpuUsPerRequest: number;
};
export type RoundsFigures = {
  roundMs: number;
  rounds: RoundFigures[];
  /** Alternating runs only: median over pairs of scenario 2 / scenario 1. */
  ratio?: { byRequestsPerSecond: number; byCpu: number; pairs: number };
};

/** One measured round of `r` against `w`: its load figures and workerd's CPU per response. */
async function measureRound(w: Workerd, r: Round, roundMs: number): Promise<RoundFigures> {
  const before = cpuSnapshot({ workerd: w.child.pid });
  const load = await loadRound(w, r, roundMs);
  const cpu = cpuBetween(before, cpuSnapshot({ workerd: w.child.pid }), 'orchestrator');
  const ok = Object.entries(load.byStatus).reduce((n, [st, c]) => (st.startsWith('2') ? n + c : n), 0);
  await sleep(200);
  return {
    label: r.label,
    connections: r.connections,
    requestsPerSecond: Math.round(load.requestsPerSecond),
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    non2xx: load.completed - ok,
    // The tail's /health requests run inside the snapshot too; they are few next to the round's.
    cpuUsPerRequest: load.completed ? Math.round(((cpu.cpuSeconds.workerd ?? 0) / load.completed) * 1e6) : 0,
  };
}

const loadRound = (w: Workerd, r: Round, roundMs: number) =>
  runLoad({
    baseUrl: w.url,
    connections: r.connections,
    durationMs: roundMs,
    request: r.request,
    tail: { method: 'GET', path: '/health' },
    drainCapMs: 5_000,
    timeoutSec: 10,
  });

async function runRounds(ctx: Ctx, s: GatewayScenario, rounds: Round[], warmUp: readonly Round[], roundMs: number): Promise<RoundFigures[]> {
  const w = await startWorkerd(ctx.bundle, await freePort(), workerVars(ctx, s), `workerd-rounds-${s.id}`);
  try {
    for (const r of warmUp) {
      await loadRound(w, r, roundMs);
      await sleep(200);
    }
    const out: RoundFigures[] = [];
    for (const r of rounds) out.push(await measureRound(w, r, roundMs));
    return out;
  } finally {
    await w.stop();
  }
}

function resultBase(id: string, title: string, s: GatewayScenario, roundMs: number, total: number): ScenarioResult {
  return {
    id,
    group: 9,
    title,
    request: `${s.request.method} ${s.request.path}`,
    connections: s.connections,
    durationMs: roundMs * total,
    vars: { STATS_SINK: s.sink },
  };
}

/** `pairs` pairs of the two rounds, odd pairs reversed (1, 2, 2, 1, 1, 2, …): a drift over the run lands on both sides alike. */
export function alternatingRounds<R>(one: R, two: R, pairs: number): R[] {
  return Array.from({ length: pairs }, (_, i) => (i % 2 ? [two, one] : [one, two])).flat();
}

/** Median over the pairs of `two` / `one` (scenario 2 / scenario 1 by default; the k-th round of each pairs up). */
export function alternatingRatio(figures: readonly RoundFigures[], oneLabel = '1', twoLabel = '2'): NonNullable<RoundsFigures['ratio']> {
  const one = figures.filter((r) => r.label === oneLabel);
  const two = figures.filter((r) => r.label === twoLabel);
  const byRps = one.map((a, i) => (two[i]?.requestsPerSecond ?? 0) / Math.max(1, a.requestsPerSecond));
  const byCpu = one.map((a, i) => a.cpuUsPerRequest / Math.max(1, two[i]?.cpuUsPerRequest ?? 0));
  return { byRequestsPerSecond: +median(byRps).toFixed(3), byCpu: +median(byCpu).toFixed(3), pairs: one.length };
}

/** Scenario 1 and 2 in `pairs` alternating rounds on one workerd, after a warm-up round of each: the auth overhead ratio. */
async function runAlternating(ctx: Ctx, s1: GatewayScenario, s2: GatewayScenario, pairs: number, roundMs: number): Promise<ScenarioResult> {
  const one: Round = { label: '1', request: s1.request, connections: s1.connections };
  const two: Round = { label: '2', request: s2.request, connections: s2.connections };
  const rounds = alternatingRounds(one, two, pairs);
  const figures = await runRounds(ctx, s2, rounds, [one, two], roundMs);
  return {
    ...resultBase('1v2', `scenario 2 / scenario 1 in ${pairs} alternating round pairs`, s2, roundMs, rounds.length),
    rounds: { roundMs, rounds: figures, ratio: alternatingRatio(figures) },
  };
}

/** Scenario 2 at each connection count, one round each: how cost grows with load. */
async function runScalingCurve(ctx: Ctx, s2: GatewayScenario, connections: readonly number[], roundMs: number): Promise<ScenarioResult> {
  const figures = await runRounds(
    ctx,
    s2,
    connections.map((c) => ({ label: `2@${c}`, request: s2.request, connections: c })),
    [{ label: 'warm-up', request: s2.request, connections: s2.connections }],
    roundMs,
  );
  return {
    ...resultBase('2-curve', `scenario 2 at ${connections.join('/')} connections`, s2, roundMs, connections.length),
    rounds: { roundMs, rounds: figures },
  };
}

/** Both round runs of a bench run (group 9), when scenarios 1 and 2 are wanted. */
export async function runRoundScenarios(ctx: Ctx): Promise<ScenarioResult[]> {
  const p = PARAMS[ctx.mode];
  const all = gatewayScenarios(ctx.mode, ctx.seeded);
  const s1 = all.find((x) => x.id === '1');
  const s2 = all.find((x) => x.id === '2');
  if (!s1 || !s2) return [];
  ctx.log(`scenario 1v2: ${p.alternatingPairs} alternating round pairs of ${p.roundMs} ms on one workerd, after a warm-up round of each`);
  const alternating = await runAlternating(ctx, s1, s2, p.alternatingPairs, p.roundMs);
  ctx.log(`  ratio 2/1: ${alternating.rounds?.ratio?.byRequestsPerSecond} by req/s, ${alternating.rounds?.ratio?.byCpu} by worker CPU per request`);
  ctx.log(`scenario 2-curve: ${p.curveConnections.join('/')} connections`);
  const curve = await runScalingCurve(ctx, s2, p.curveConnections, p.roundMs);
  return [alternating, curve];
}

/**
 * Scenario 2 on two bundles in one run: `base` (a git ref) and this tree, one workerd each, a
 * warm-up round on each, then `pairs` alternating round pairs. A change to the cache hit saves a
 * few µs per request, less than full runs differ from each other; in one run, side by side, it shows.
 */
export async function runBundleAb(ctx: Ctx, base: Bundle, ref: string): Promise<ScenarioResult | undefined> {
  const p = PARAMS[ctx.mode];
  const s2 = gatewayScenarios(ctx.mode, ctx.seeded).find((x) => x.id === '2');
  if (!s2) return undefined;
  const vars = workerVars(ctx, s2);
  const sides = {
    base: await startWorkerd(base, await freePort(), vars, 'workerd-ab-base'),
    head: await startWorkerd(ctx.bundle, await freePort(), vars, 'workerd-ab-head'),
  };
  try {
    const round = (label: 'base' | 'head' | 'warm-up'): Round => ({ label, request: s2.request, connections: s2.connections });
    for (const w of [sides.base, sides.head]) await loadRound(w, round('warm-up'), p.roundMs);
    const figures: RoundFigures[] = [];
    for (const label of alternatingRounds('base' as const, 'head' as const, p.alternatingPairs))
      figures.push(await measureRound(sides[label], round(label), p.roundMs));
    const ratio = alternatingRatio(figures, 'base', 'head');
    ctx.log(`  this tree / ${ref}: ${ratio.byRequestsPerSecond} by req/s, ${ratio.byCpu} by worker CPU per request`);
    return {
      ...resultBase('2-ab', `scenario 2, this tree against ${ref}, in ${p.alternatingPairs} alternating round pairs`, s2, p.roundMs, figures.length),
      rounds: { roundMs: p.roundMs, rounds: figures, ratio },
    };
  } finally {
    await Promise.all([sides.base.stop(), sides.head.stop()]);
  }
}
