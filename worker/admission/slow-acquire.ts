/**
 * Slow-acquire policy: a permit wait longer than DB_ACQUIRE_SLOW_MS is the first sign of a pool
 * running hot, well before acquire timeouts (503s). Each slow acquire is counted per target; the
 * warning is rate-limited per target so a burst yields one line per interval, carrying how many
 * were not logged since the previous line. Also sums every wait so a reader of two snapshots can
 * tell the mean wait between them. Pure: the clock is injected.
 */

export type SlowAcquireOptions = {
  /** Waits strictly longer than this are slow (DB_ACQUIRE_SLOW_MS); 0 turns the policy off. */
  thresholdMs: number;
  /** Minimum time between two warnings for the same target. */
  warnIntervalMs: number;
  now: () => number;
};

/** Per-target counters for the status document. */
export type SlowAcquireCounts = {
  /** Granted acquires that waited longer than the threshold. */
  slowAcquires: number;
  /** Granted acquires seen, and the sum of their waits (mean wait = waitedMsTotal / acquiresSeen). */
  acquiresSeen: number;
  waitedMsTotal: number;
};

/** What `record` decided: `warn` is set when this slow acquire should be logged now. */
export type SlowAcquireVerdict = { slow: boolean; warn: boolean; suppressed: number };

export type SlowAcquireTracker = {
  /** Records a granted acquire of `target` that waited `waitedMs`. */
  record(target: string, waitedMs: number): SlowAcquireVerdict;
  counts(target: string): SlowAcquireCounts;
};

type TargetState = SlowAcquireCounts & { lastWarnAt: number | null; suppressed: number };

export function createSlowAcquireTracker(opts: SlowAcquireOptions): SlowAcquireTracker {
  const targets = new Map<string, TargetState>();
  const stateOf = (target: string): TargetState => {
    let s = targets.get(target);
    if (!s) {
      s = { slowAcquires: 0, acquiresSeen: 0, waitedMsTotal: 0, lastWarnAt: null, suppressed: 0 };
      targets.set(target, s);
    }
    return s;
  };
  return {
    record(target, waitedMs) {
      const s = stateOf(target);
      s.acquiresSeen += 1;
      s.waitedMsTotal += Math.max(0, waitedMs);
      if (opts.thresholdMs <= 0 || waitedMs <= opts.thresholdMs) return { slow: false, warn: false, suppressed: 0 };
      s.slowAcquires += 1;
      const now = opts.now();
      if (s.lastWarnAt !== null && now - s.lastWarnAt < opts.warnIntervalMs) {
        s.suppressed += 1;
        return { slow: true, warn: false, suppressed: 0 };
      }
      const suppressed = s.suppressed;
      s.lastWarnAt = now;
      s.suppressed = 0;
      return { slow: true, warn: true, suppressed };
    },
    counts(target) {
      const { slowAcquires, acquiresSeen, waitedMsTotal } = stateOf(target);
      return { slowAcquires, acquiresSeen, waitedMsTotal };
    },
  };
}
