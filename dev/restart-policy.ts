/**
 * When the dev stack restarts a crashed child (the flusher): a few times with growing delays, the
 * count starting afresh once a run has stayed up for a while. Pure: times are passed in.
 */

export type RestartPolicyOptions = {
  /** Restarts allowed in a row before giving up. */
  maxRestarts: number;
  /** Delay before the first restart; doubled for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A run that lasted this long resets the count. */
  stableMs: number;
};

export type RestartDecision = { restart: true; attempt: number; delayMs: number } | { restart: false; restarts: number };

export type RestartPolicy = {
  /** The child (re)started at `now`. */
  started(now: number): void;
  /** The child exited unexpectedly at `now`: restart it (after `delayMs`) or give up. */
  exited(now: number): RestartDecision;
};

export function createRestartPolicy(o: RestartPolicyOptions): RestartPolicy {
  let startedAt = 0;
  let attempts = 0;
  return {
    started(now) {
      startedAt = now;
    },
    exited(now) {
      if (now - startedAt >= o.stableMs) attempts = 0;
      if (attempts >= o.maxRestarts) return { restart: false, restarts: attempts };
      attempts += 1;
      return { restart: true, attempt: attempts, delayMs: Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempts - 1)) };
    },
  };
}
