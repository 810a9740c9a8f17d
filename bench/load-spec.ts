/**
 * What the load generator is asked to do and what it reports back. Shared by the orchestrator
 * (bench/load.ts) and the separate load-generator process (bench/load-runner.ts).
 */

export type HttpRequestSpec = { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };

export type LoadSpec = {
  /** `http://127.0.0.1:port`; the runner refuses any other host. */
  baseUrl: string;
  connections: number;
  durationMs: number;
  /** The measured request; every connection sends it back to back (no pipelining). */
  request: HttpRequestSpec;
  /**
   * At a steady `perSecond` (by wall clock, independent of throughput), send the next of `values`
   * in header `name` instead of the request's own: with enough distinct keys of one client, each
   * injected request is a key-cache miss, so misses arrive at exactly that rate.
   */
  injectMisses?: { name: string; values: string[]; perSecond: number };
  /**
   * Every request carries a fresh forgery instead of the request's own credentials, in turn: a
   * random legacy-format key for the request's client, a random tagged-format key (wrong tag) for
   * it, and a random client name with a random key. Nothing repeats, so no cache ever helps.
   */
  forgeries?: boolean;
  /** Build each body (and headers) per request instead: signed flusher batches. */
  flusherBatch?: { secret: string; deltasPerBatch: number; clients: number };
  /**
   * After `durationMs`, connections switch to this request (not measured, not counted by the
   * gateway's counters) so every measured request in flight completes before the run stops:
   * the served count is then exact, which the counter-exactness check needs.
   */
  tail: HttpRequestSpec;
  /** Upper bound on the drain after `durationMs`. */
  drainCapMs: number;
  /** Per-request timeout in seconds (autocannon's `timeout`). */
  timeoutSec: number;
};

export type Percentiles = { p50: number; p95: number; p99: number; max: number; mean: number };

export type SecondSample = { second: number; total: number; byStatus: Record<string, number> };

export type LoadResult = {
  /** Measured requests completed (any status). */
  completed: number;
  /** Measured requests sent; `sent - completed` never got an answer (timeouts, resets). */
  sent: number;
  byStatus: Record<string, number>;
  /** `error.code` of non-2xx JSON bodies, keyed `status:code`. */
  byErrorCode: Record<string, number>;
  /** Socket errors and timeouts seen by autocannon (both phases). */
  errors: number;
  timeouts: number;
  /** Wall time from start to the deadline, in ms (the rate's denominator). */
  elapsedMs: number;
  /** From start to the last measured response (includes the drain), in ms. */
  lastResponseMs: number;
  /** Measured responses per second over `elapsedMs` (responses completed before the deadline). */
  requestsPerSecond: number;
  latencyMs: Percentiles;
  /** Per second from the start, zeros included. */
  timeline: SecondSample[];
  /** Whole seconds of the measured window in which no measured response completed (a stall). */
  secondsWithoutResponses: number;
  /** Requests sent with an injected (cold) key; see `injectMisses`. */
  missesInjected: number;
  /** CPU seconds the load generator itself used (user + system). */
  cpuSeconds: number;
  /** Flusher mode: deltas carried by batches answered 2xx. */
  deltasAcked?: number;
};

const sumRecords = (records: Array<Record<string, number>>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/**
 * One result from load generators that ran side by side (one per flusher replica). Counts and
 * rates add up; percentiles and stalls are each generator's worst (a bound: the exact merged percentile
 * needs the raw samples, which the generators do not keep); the mean is weighted by responses.
 */
export function mergeLoadResults(parts: readonly LoadResult[]): LoadResult {
  const [first] = parts;
  if (!first) throw new Error('mergeLoadResults needs at least one result');
  if (parts.length === 1) return first;
  const sum = (pick: (r: LoadResult) => number) => parts.reduce((n, r) => n + pick(r), 0);
  const max = (pick: (r: LoadResult) => number) => Math.max(...parts.map(pick));
  const completed = sum((r) => r.completed);
  const seconds = max((r) => r.timeline.length);
  const timeline: SecondSample[] = Array.from({ length: seconds }, (_, second) => {
    const samples = parts.map((r) => r.timeline[second]).filter((s): s is SecondSample => s !== undefined);
    return { second, total: samples.reduce((n, s) => n + s.total, 0), byStatus: sumRecords(samples.map((s) => s.byStatus)) };
  });
  const acked = parts.some((r) => r.deltasAcked !== undefined) ? { deltasAcked: sum((r) => r.deltasAcked ?? 0) } : {};
  return {
    completed,
    sent: sum((r) => r.sent),
    byStatus: sumRecords(parts.map((r) => r.byStatus)),
    byErrorCode: sumRecords(parts.map((r) => r.byErrorCode)),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    elapsedMs: max((r) => r.elapsedMs),
    lastResponseMs: max((r) => r.lastResponseMs),
    requestsPerSecond: sum((r) => r.requestsPerSecond),
    latencyMs: {
      p50: max((r) => r.latencyMs.p50),
      p95: max((r) => r.latencyMs.p95),
      p99: max((r) => r.latencyMs.p99),
      max: max((r) => r.latencyMs.max),
      mean: completed > 0 ? sum((r) => r.latencyMs.mean * r.completed) / completed : 0,
    },
    timeline,
    secondsWithoutResponses: max((r) => r.secondsWithoutResponses),
    missesInjected: sum((r) => r.missesInjected),
    cpuSeconds: sum((r) => r.cpuSeconds),
    ...acked,
  };
}
