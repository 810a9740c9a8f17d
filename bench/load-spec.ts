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
