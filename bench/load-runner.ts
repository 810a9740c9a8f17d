/**
 * The load generator, run as its own process (`tsx bench/load-runner.ts spec.json result.json`) so
 * it never shares a CPU event loop with the servers it measures or the orchestrator's samplers.
 * autocannon drives the connections; this file adds what autocannon does not report: p95, error
 * codes of non-2xx bodies, a per-second status timeline, and an exact served count (see `tail`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { HttpRequestSpec, LoadResult, LoadSpec, Percentiles, SecondSample } from './load-spec.js';
import { signedBatch } from './flusher-batch.js';
import { sortedQuantile } from './percentile.js';

type Phase = 'measured' | 'tail';
/** autocannon's per-request context: which phase the request belongs to and the deltas it carries. */
type Ctx = { phase?: Phase; deltas?: number };
type BuiltRequest = { method: string; path: string; headers: Record<string, string>; body?: string | Buffer };

const [specArg, resultArg] = process.argv.slice(2);
if (!specArg || !resultArg) throw new Error('usage: load-runner <spec.json> <result.json>');
const specPath: string = specArg;
const resultPath: string = resultArg;
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as LoadSpec;
const base = new URL(spec.baseUrl);
if (base.hostname !== '127.0.0.1') throw new Error('the load generator only targets 127.0.0.1');

const byStatus: Record<string, number> = {};
const byErrorCode: Record<string, number> = {};
const timeline = new Map<number, SecondSample>();
const latencies: number[] = [];
let sent = 0;
let completed = 0;
let completedByDeadline = 0;
let deltasAcked = 0;
let injected = 0;
let inFlight = 0;
let lastPhase: Phase = 'measured';
let lastDeltas = 0;
let lastResponseAt = performance.now();
const startedAt = performance.now();
const deadline = startedAt + spec.durationMs;
const pastDeadline = () => performance.now() >= deadline;

function build(req: HttpRequestSpec, extraHeaders?: Record<string, string>): BuiltRequest {
  const headers = { ...(req.headers ?? {}), ...(extraHeaders ?? {}) };
  return req.body === undefined ? { method: req.method, path: req.path, headers } : { method: req.method, path: req.path, headers, body: req.body };
}

const tailRequest = build(spec.tail);

// autocannon passes its defaults (hostname, port → Host header) in `req`; keep them.
function setupRequest(req: BuiltRequest, ctx: Ctx): BuiltRequest {
  const next = nextRequest(ctx);
  return { ...req, ...next, headers: next.headers, body: next.body ?? Buffer.alloc(0) };
}

function nextRequest(ctx: Ctx): BuiltRequest {
  if (pastDeadline()) {
    ctx.phase = 'tail';
    return tailRequest;
  }
  ctx.phase = 'measured';
  sent++;
  inFlight++;
  if (spec.flusherBatch) {
    const batch = signedBatch(spec.flusherBatch, sent);
    ctx.deltas = batch.deltas;
    return { method: 'POST', path: spec.request.path, headers: { ...(spec.request.headers ?? {}), ...batch.headers }, body: batch.body };
  }
  if (spec.forgeries) return build(spec.request, forgery(sent));
  if (spec.injectMisses) {
    const { name, values, perSecond } = spec.injectMisses;
    const due = Math.floor(((performance.now() - startedAt) * perSecond) / 1000);
    if (injected < due) {
      injected++;
      return build(spec.request, { [name]: values[injected % values.length] ?? '' });
    }
  }
  return build(spec.request);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rnd = (alphabet: string, n: number): string => {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
};
const legacyKey = (): string => `ath_${rnd('abcdefghijklmnopqrstuvwxyz0123456789', 10)}_${rnd(ALNUM, 40)}`;

/** The `n`th forgery: a random legacy key, a random tagged key, or a random client name (see `forgeries`). */
function forgery(n: number): Record<string, string> {
  if (n % 3 === 0) return { apikey: legacyKey() };
  if (n % 3 === 1) return { apikey: `${legacyKey()}_${rnd('0123456789abcdef', 24)}` };
  return { 'x-athena-client': `rnd-${rnd(ALNUM, 12)}`, apikey: legacyKey() };
}

function onResponse(status: number, body: string, ctx: Ctx): void {
  lastPhase = ctx.phase ?? 'measured';
  lastDeltas = ctx.deltas ?? 0;
  if (lastPhase !== 'measured') return;
  inFlight--;
  if (status >= 400) {
    const code = errorCode(body);
    const key = `${status}:${code}`;
    byErrorCode[key] = (byErrorCode[key] ?? 0) + 1;
  }
}

function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : 'no_code';
  } catch {
    return 'not_json';
  }
}

const instance = autocannon(
  {
    url: spec.baseUrl,
    connections: spec.connections,
    pipelining: 1,
    // Stopped by hand once the measured requests have drained; this is only the hard cap.
    duration: Math.ceil((spec.durationMs + spec.drainCapMs) / 1000) + 5,
    timeout: spec.timeoutSec,
    requests: [{ ...build(spec.request), setupRequest, onResponse } as unknown as autocannon.Request],
  },
  finish,
);

// autocannon calls onResponse and then emits 'response' synchronously for the same request
// (pipelining 1), so `lastPhase` belongs to this response and the latency is autocannon's own.
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
  if (lastPhase !== 'measured') return;
  completed++;
  lastResponseAt = performance.now();
  if (!pastDeadline()) completedByDeadline++;
  const status = String(statusCode);
  byStatus[status] = (byStatus[status] ?? 0) + 1;
  latencies.push(responseTime);
  if (statusCode >= 200 && statusCode < 300) deltasAcked += lastDeltas;
  const second = Math.floor((performance.now() - startedAt) / 1000);
  let sample = timeline.get(second);
  if (!sample) {
    sample = { second, total: 0, byStatus: {} };
    timeline.set(second, sample);
  }
  sample.total++;
  sample.byStatus[status] = (sample.byStatus[status] ?? 0) + 1;
});

// A timed-out or reset request never gets onResponse; count it so the drain does not wait for it.
let requestErrors = 0;
instance.on('reqError', () => requestErrors++);

const drained = setInterval(() => {
  const now = performance.now();
  if (now < deadline) return;
  if (inFlight - requestErrors <= 0 || now >= deadline + spec.drainCapMs) {
    clearInterval(drained);
    instance.stop();
  }
}, 20);

function finish(err: unknown, result: autocannon.Result): void {
  if (err) throw err;
  clearInterval(drained);
  const cpu = process.cpuUsage();
  const out: LoadResult = {
    completed,
    sent,
    byStatus,
    byErrorCode,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedMs: spec.durationMs,
    lastResponseMs: Math.round(lastResponseAt - startedAt),
    requestsPerSecond: (completedByDeadline * 1000) / spec.durationMs,
    latencyMs: percentiles(latencies),
    timeline: denseTimeline(),
    secondsWithoutResponses: Array.from({ length: Math.floor(spec.durationMs / 1000) }, (_, i) => i).filter((i) => !timeline.has(i)).length,
    missesInjected: injected,
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
    ...(spec.flusherBatch ? { deltasAcked } : {}),
  };
  writeFileSync(resultPath, JSON.stringify(out));
  process.exit(0);
}

/** One sample per second from 0 to the last, zeros included: a stall shows as a run of zeros. */
function denseTimeline(): SecondSample[] {
  const last = Math.max(-1, ...timeline.keys());
  return Array.from({ length: last + 1 }, (_, second) => timeline.get(second) ?? { second, total: 0, byStatus: {} });
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sortedQuantile(sorted, q);
  const round = (n: number) => Math.round(n * 100) / 100;
  const sum = values.reduce((a, b) => a + b, 0);
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1] ?? 0), mean: round(sum / values.length) };
}
