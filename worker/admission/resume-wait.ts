/**
 * A resume is slow, not dead (docs/operations.md "Resume after idle"): while a target's sessions
 * are still waiting for the database to answer their startup — a Neon compute waking from idle
 * takes a second or more — and none of its connects has failed lately, a permit wait that runs out
 * is extended once: until the oldest pending connect's own deadline (DB_CONNECT_TIMEOUT_MS), plus
 * one more acquire timeout for the queue to drain once the database answers. A database that
 * refuses or times out a connect gets no extension. Pure: callers pass the clock's readings.
 */

export type ConnectOutcome = 'connected' | 'failed';

export type ConnectWatch = {
  /** A session starts connecting at `now`. Call the result once, with the outcome (or none when it never asked the database anything). */
  begin(now: number): (outcome: ConnectOutcome | undefined, now: number) => void;
  /** How much longer a waiter refused at `now` may wait for a permit; 0 = no extension. */
  extensionMs(now: number, connectTimeoutMs: number, acquireTimeoutMs: number): number;
  /** Whether a session of the target was answered within `withinMs` before `now` (the database is awake). */
  answeredWithin(now: number, withinMs: number): boolean;
};

export function createConnectWatch(): ConnectWatch {
  const pending = new Map<number, number>();
  let nextId = 1;
  let lastFailedAt = Number.NEGATIVE_INFINITY;
  let lastAnsweredAt = Number.NEGATIVE_INFINITY;
  return {
    begin(startedAt) {
      const id = nextId++;
      pending.set(id, startedAt);
      return (outcome, now) => {
        if (!pending.delete(id)) return;
        if (outcome === 'failed') lastFailedAt = now;
        if (outcome === 'connected') lastAnsweredAt = Math.max(lastAnsweredAt, now);
      };
    },
    extensionMs(now, connectTimeoutMs, acquireTimeoutMs) {
      if (pending.size === 0 || now - lastFailedAt < connectTimeoutMs) return 0;
      const deadline = Math.min(...pending.values()) + connectTimeoutMs;
      return deadline > now ? deadline - now + acquireTimeoutMs : 0;
    },
    answeredWithin(now, withinMs) {
      return now - lastAnsweredAt <= withinMs;
    },
  };
}
