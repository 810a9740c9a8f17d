/**
 * Scenarios 1–5 of `npm run bench`, the run's parameters and context. Every gateway scenario starts a
 * fresh workerd (one isolate) with its own vars, warms the key cache, wipes counters and
 * pg_stat_statements, runs a bounded load from a separate process while sampling
 * pg_stat_activity, forces the final flush and compares the counters with what was served.
 */
import type { RoundsFigures } from './rounds.js';
import { randomBytes } from 'node:crypto';
import { freePort } from '../dev/ports.js';
import { cpuBetween, cpuSnapshot, type CpuProfile } from './cpu.js';
import type { Catalog, LockSampling, Probe, StatementCounts } from './db-probes.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec, LoadResult, LoadSpec } from './load-spec.js';
import { sleep } from '../dev/process-group.js';
import { HOT_CLIENT, type Seeded } from './seed.js';
import { admin, settleCounters, trimStatus } from './settle.js';
import { BENCH_RTT_MS, type Flusher, type Stack } from './stack.js';
import { startWorkerd, type Bundle } from './workerd.js';

export type Mode = 'quick' | 'full';

/**
 * `flusherReplicaLevels` ⊂ `flusherLevels`: those levels run again with 2 flusher replicas, right after their 1-replica run;
 * `flusherFillfactorLevels` run again with the counter tables at fillfactor 100 (what migration 0005's fillfactor 50 buys).
 */
export const PARAMS = {
  full: {
    durationMs: 20_000,
    connections: 64,
    starvationConnections: 256,
    flusherLevels: [
      [1, 200],
      [2, 200],
      [4, 200],
      [8, 200],
      [16, 200],
      [32, 200],
      [64, 200],
      [4, 20],
      [16, 20],
      [32, 20],
      [64, 20],
    ],
    flusherReplicaLevels: [
      [16, 200],
      [16, 20],
    ],
    flusherFillfactorLevels: [
      [16, 200],
      [32, 200],
      [64, 200],
    ],
    alternatingPairs: 10,
    roundMs: 3_000,
    curveConnections: [16, 64, 256],
    isolates: 4,
    flusherLevelMs: 8_000,
    settleCapMs: 20_000,
    runtimeCheckMs: 8_000,
    profileMs: 8_000,
    distantSinks: ['per_request', 'flusher', 'direct'],
  },
  // CI's check that every scenario still runs end to end (it asserts nothing about performance): one
  // second per load at small concurrency, one flusher level of each kind, every variant kept (the
  // distant proxy's path by one sink: the sinks' own paths run near the database).
  quick: {
    durationMs: 1_000,
    connections: 8,
    starvationConnections: 32,
    flusherLevels: [
      [4, 200],
      [4, 20],
    ],
    flusherReplicaLevels: [[4, 200]],
    flusherFillfactorLevels: [[4, 200]],
    alternatingPairs: 1,
    roundMs: 500,
    curveConnections: [4, 16],
    isolates: 2,
    flusherLevelMs: 1_000,
    settleCapMs: 5_000,
    runtimeCheckMs: 0,
    profileMs: 1_000,
    distantSinks: ['direct'],
  },
} as const;

/**
 * Scenario 5's starvation knobs (docs/architecture.md: the failure this gateway is built around): one client, many connections, a small pool, the
 * default acquire timeout, and key-cache misses forced at a steady rate: the load generator sends
 * one of `missKeys` other keys of the hot client `missesPerSecond` times a second (each key comes
 * back only after 64 / 20 = 3.2 s, past its 1 s TTL, so every one is a lookup). The rate is well
 * inside what the pool serves when nothing else holds it; what per_request adds is the point.
 */
export const STARVATION = {
  vars: { DB_POOL_MAX: '8', DB_ACQUIRE_TIMEOUT_MS: '1000', AUTH_CACHE_TTL_MS: '1000', AUTH_POLICY_CACHE_TTL_MS: '1000' },
  missKeys: 64,
  missesPerSecond: 20,
} as const;

export type ScenarioResult = {
  id: string;
  group: number;
  title: string;
  request: string;
  connections: number;
  durationMs: number;
  vars: Record<string, string>;
  load?: LoadResult;
  statements?: StatementCounts;
  locks?: LockSampling;
  counters?: import('./settle.js').CounterCheck;
  cpu?: CpuProfile;
  /** Scenario 6: deltas committed per second and acknowledgement latency. */
  flusher?: { replicas: number; deltasPerSecond: number; ackP99Ms: number; batches: number; deltasAcked: number; dbDeltas: number; exact: boolean };
  /** Scenario 7: the forged flood's rate and what it cost (bench/forged-flood.ts). */
  forgery?: import('./forged-flood.js').ForgeryFigures;
  /** Scenario 8: rate-limited vs unlimited client and the limiter's cost (bench/rate-limit-scenario.ts). */
  rateLimit?: import('./rate-limit-scenario.js').RateLimitFigures;
  /** Scenario 10: several isolates (bench/many-isolates.ts). */
  isolates?: import('./many-isolates.js').IsolateFigures;
  /** Scenario 15: time to refusal of a revoked key across isolates (bench/revocation-scenario.ts). */
  revocation?: import('./revocation-scenario.js').RevocationFigures;
  /** Scenario 13: SQL text parse times at the caps and /health beside worst-case texts (bench/hostile-text-scenario.ts). */
  hostileText?: import('./hostile-text-scenario.js').HostileTextFigures;
  /** Scenarios 11–12: the gateway's data path against a minimal worker's bare session (bench/data-path-rounds.ts). */
  dataPath?: import('./data-path-rounds.js').DataPathFigures;
  /** Scenario 14: one transport's latencies at a distance (bench/transport-scenario.ts). */
  transport?: import('./transport-scenario.js').TransportFigures;
  /** Rounds on one workerd: the alternating 1/2 ratio and the scaling curve (bench/rounds.ts). */
  rounds?: RoundsFigures;
  /** Budgets, key cache, batcher and limiter of the isolate after the run (GET /__gateway/status). */
  gatewayStatus?: unknown;
  skipped?: string;
};

export type Ctx = {
  mode: Mode;
  bundle: Bundle;
  stack: Stack;
  flusher: Flusher;
  probe: Probe;
  catalog: Catalog;
  seeded: Seeded;
  adminToken: string;
  signingSecret: string;
  /** KEY_SIGNING_SECRETS of the worker; the seeded hot and miss keys are signed with it. */
  keySigningSecret: string;
  log: (line: string) => void;
};

export type GatewayScenario = {
  id: string;
  group: number;
  title: string;
  sink: 'flusher' | 'direct' | 'per_request';
  request: HttpRequestSpec;
  connections: number;
  counted: boolean;
  vars?: Record<string, string>;
  injectMisses?: boolean;
  /** Every response is counted, non-2xx as errors (data routes: a refused session is still a counted request). */
  errorsCounted?: boolean;
  /** Through the stack's distant proxy (`BENCH_RTT_MS` of round trip) instead of the near one. */
  distant?: boolean;
};

const VERIFY = '/v1/auth/verify';

/** Scenarios 1–5 for a mode. */
export function gatewayScenarios(mode: Mode, seeded: Seeded): GatewayScenario[] {
  const p = PARAMS[mode];
  const authed: HttpRequestSpec = { method: 'GET', path: VERIFY, headers: { 'x-athena-client': HOT_CLIENT, apikey: seeded.hotKey } };
  const starvation = (sink: GatewayScenario['sink'], distant = false): GatewayScenario => ({
    id: `5-${sink}${distant ? `-rtt${BENCH_RTT_MS}` : ''}`,
    group: 5,
    title: `hot-key starvation, ${sink}${distant ? `, ${BENCH_RTT_MS} ms RTT` : ''}`,
    sink,
    request: authed,
    connections: p.starvationConnections,
    counted: true,
    vars: STARVATION.vars,
    injectMisses: true,
    distant,
  });
  return [
    {
      id: '1',
      group: 1,
      title: 'bare Hono route (ceiling)',
      sink: 'flusher',
      request: { method: 'GET', path: '/health' },
      connections: p.connections,
      counted: false,
    },
    { id: '2', group: 2, title: 'auth cache hit, STATS_SINK=flusher', sink: 'flusher', request: authed, connections: p.connections, counted: true },
    { id: '3', group: 3, title: 'auth cache hit, STATS_SINK=direct', sink: 'direct', request: authed, connections: p.connections, counted: true },
    { id: '4', group: 4, title: 'auth cache hit, STATS_SINK=per_request', sink: 'per_request', request: authed, connections: p.connections, counted: true },
    starvation('per_request'),
    starvation('flusher'),
    starvation('direct'),
    // The same at a database a region away, through the Neon-like proxy: what the seed's hot client meets on Neon.
    ...p.distantSinks.map((sink) => starvation(sink, true)),
  ];
}

/** The worker's vars and secrets for scenario `s` (secrets are random per run). */
export function workerVars(ctx: Ctx, s: GatewayScenario): Record<string, string> {
  return {
    DATABASE_URL: ctx.stack.catalogUrl,
    NEON_LOCAL_WS_PROXY: (s.distant ? ctx.stack.distantProxy : ctx.stack.proxy).url,
    ADMIN_TOKEN: ctx.adminToken,
    FLUSH_SIGNING_SECRET: ctx.signingSecret,
    FLUSHER_URL: ctx.flusher.url,
    KEY_SIGNING_SECRETS: ctx.keySigningSecret,
    STATS_SINK: s.sink,
    ...(s.vars ?? {}),
  };
}

const PUBLIC_VARS = [
  'STATS_SINK',
  'DB_POOL_MAX',
  'DB_ACQUIRE_TIMEOUT_MS',
  'AUTH_CACHE_TTL_MS',
  'AUTH_POLICY_CACHE_TTL_MS',
  'STATS_FLUSH_INTERVAL_MS',
  'STATS_FLUSH_MAX_KEYS',
  'REQUEST_LOG',
  'DB_TRANSPORT',
];

/** Runs one gateway scenario end to end. */
export async function runGatewayScenario(ctx: Ctx, s: GatewayScenario): Promise<ScenarioResult> {
  const p = PARAMS[ctx.mode];
  const vars = workerVars(ctx, s);
  const base: ScenarioResult = {
    id: s.id,
    group: s.group,
    title: s.title,
    request: `${s.request.method} ${s.request.path}`,
    connections: s.connections,
    durationMs: p.durationMs,
    vars: { ...Object.fromEntries(PUBLIC_VARS.map((k) => [k, vars[k] ?? ctx.bundle.defaultVars[k] ?? ''])), ...distanceVars(s) },
  };

  const w = await startWorkerd(ctx.bundle, await freePort(), vars, `workerd-${s.id}`);
  try {
    const headers = s.request.headers ?? {};
    // Warm the isolate and its caches, then start from zeroed counters and statistics.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${w.url}${s.request.path}`, { method: s.request.method, headers, body: s.request.body });
      if (s.counted && !res.ok) return { ...base, skipped: `warm-up answered ${res.status}: ${(await res.text()).slice(0, 200)}` };
    }
    await admin(w, ctx, 'POST', '/__gateway/flush');
    await sleep(300);
    await ctx.catalog.resetCounters();
    await ctx.probe.resetStatements();

    const spec: LoadSpec = {
      baseUrl: w.url,
      connections: s.connections,
      durationMs: p.durationMs,
      request: s.request,
      tail: { method: 'GET', path: '/health' },
      drainCapMs: 5_000,
      timeoutSec: 10,
      ...(s.injectMisses ? { injectMisses: { name: 'apikey', values: ctx.seeded.missKeys, perSecond: STARVATION.missesPerSecond } } : {}),
    };
    const roots = { workerd: w.child.pid, flusher: ctx.flusher.child.pid, postgres: ctx.stack.postgresPid };
    const cpuBefore = cpuSnapshot(roots);
    const sampler = ctx.probe.sampleLocks(100);
    let load: LoadResult;
    try {
      load = await runLoad(spec);
    } finally {
      base.locks = await sampler.stop();
    }
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(roots), 'orchestrator+ws-proxy');
    cpu.cpuSeconds['load-generator'] = load.cpuSeconds;
    const counters = s.counted ? await settleCounters(ctx, [w], load.byStatus, p.settleCapMs, { errorsCounted: s.errorsCounted === true }) : undefined;
    const statements = await ctx.probe.statements();
    const gatewayStatus = await admin(w, ctx, 'GET', '/__gateway/status');
    return { ...base, load, statements, cpu, ...(counters ? { counters } : {}), gatewayStatus: trimStatus(gatewayStatus) };
  } finally {
    await w.stop();
  }
}

/** `DEV_DB_RTT_MS` of a scenario through the distant proxy, for the report (none otherwise). */
export const distanceVars = (s: GatewayScenario): Record<string, string> => (s.distant ? { DEV_DB_RTT_MS: String(BENCH_RTT_MS) } : {});

/** Random secrets for one run; never printed. */
export const randomSecret = () => randomBytes(24).toString('base64url');
