/** A hand-driven clock and timer adapter for pure policy tests: time moves only in `advance`. */
export type ManualClock = {
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  /** Moves time forward, firing due timers in order (synchronously). */
  advance: (ms: number) => void;
  pending: () => number;
};

export function manualClock(start = 0): ManualClock {
  let t = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimer(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: t + Math.max(0, ms), fn });
      return id;
    },
    clearTimer(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        t = due[1].at;
        due[1].fn();
      }
      t = end;
    },
    pending: () => timers.size,
  };
}

/**
 * Advances `ms` one millisecond at a time and lets promise continuations run after each step, so
 * waiters that re-check on their own timers (budget, cache followers) make progress as they would.
 */
export async function elapse(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
  }
}
