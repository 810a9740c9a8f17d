/**
 * When an isolate's pending counters are flushed if no further request arrives. Workers have no
 * background timers, so the request that records deltas not yet due keeps its `waitUntil` open until
 * they are due and then flushes them itself — its own timer, its own I/O, awaited by no other
 * request. This policy makes sure one live wake covers a due time instead of one per request.
 * Pure: it takes its clock; the counters service sleeps.
 */
export type WakeClaim = { waitMs: number; at: number };

type WakePolicy = {
  /**
   * A wake for `dueAt` this request should run, or undefined: nothing is due, a live wake fires no
   * later, or the wait would exceed `maxWaitMs` (the request's remaining time for work after its response).
   */
  claim(dueAt: number | undefined, maxWaitMs: number): WakeClaim | undefined;
  /** The wake claimed for `at` fired: later records may claim again. */
  release(at: number): void;
};

export function createWakePolicy(opts: { now: () => number; lostAfterMs: number }): WakePolicy {
  let claimedAt: number | undefined;
  return {
    claim(dueAt, maxWaitMs) {
      if (dueAt === undefined) return undefined;
      const t = opts.now();
      // A claimed wake long past its time belongs to a request that ended early: claim anew.
      const live = claimedAt !== undefined && t < claimedAt + opts.lostAfterMs;
      if (live && claimedAt !== undefined && claimedAt <= dueAt) return undefined;
      const waitMs = Math.max(0, dueAt - t);
      if (waitMs > maxWaitMs) return undefined;
      claimedAt = dueAt;
      return { waitMs, at: dueAt };
    },
    release(at) {
      if (claimedAt === at) claimedAt = undefined;
    },
  };
}
