/**
 * When the local proxy delivers each message, so the stack pays what a database a region away
 * does (docs/configuration.md "Local stack"): half the round-trip time each way, in order; three
 * round trips of set-up (TCP, TLS 1.3, WebSocket upgrade) before a WebSocket connection's first
 * message, two (TCP, TLS 1.3) before an HTTP connection's first request; and, after a stretch without sessions, a compute that takes a while to resume. Pure: callers
 * pass the clock's readings.
 */

/** Round trips a new connection to Neon pays before its first message: TCP, TLS 1.3, WebSocket upgrade. */
export const SETUP_ROUND_TRIPS = 3;

/** Round trips a new HTTP connection to Neon's SQL endpoint pays before its first request: TCP, TLS 1.3. */
export const HTTP_SETUP_ROUND_TRIPS = 2;

/** One direction of one connection. */
export type Lane = {
  /** When a message sent at `sentAt` arrives: `oneWayMs` later, never before an earlier one, never before `notBefore`. */
  due(sentAt: number): number;
};

export function createLane(oneWayMs: number, notBefore = Number.NEGATIVE_INFINITY): Lane {
  let last = notBefore;
  return {
    due(sentAt) {
      last = Math.max(last, sentAt + oneWayMs);
      return last;
    },
  };
}

export type ComputeOptions = {
  /** How long a resume takes; 0 = never asleep. */
  coldStartMs: number;
  /** A compute with no session for this long is asleep. */
  idleMs: number;
};

/** The database compute behind the proxy: awake while it has sessions, asleep after `idleMs` without. */
export type Compute = {
  /** A session opens at `now`; returns when the compute can first serve it. */
  open(now: number): number;
  /** A session closes at `now`. */
  close(now: number): void;
  /** Open sessions. */
  sessions(): number;
};

/**
 * Starts asleep (a compute nobody used yet). The session that finds it asleep starts the resume;
 * every session opened during the resume waits for the same end.
 */
export function createCompute(opts: ComputeOptions): Compute {
  let open = 0;
  let lastClosedAt: number | undefined;
  let awakeFrom = Number.NEGATIVE_INFINITY;
  const asleep = (now: number) => open === 0 && now >= awakeFrom && (lastClosedAt === undefined || now - lastClosedAt >= opts.idleMs);
  return {
    open(now) {
      if (opts.coldStartMs > 0 && asleep(now)) awakeFrom = now + opts.coldStartMs;
      open++;
      return Math.max(now, awakeFrom);
    },
    close(now) {
      open = Math.max(0, open - 1);
      if (open === 0) lastClosedAt = Math.max(now, awakeFrom);
    },
    sessions: () => open,
  };
}
