/** Timers and a clock as the pure policies (budget, polling, auth caches) take them, and the real ones. */

/** Opaque timer handle of the injected timer adapter. */
export type TimerHandle = unknown;

export type TimerAdapter = {
  setTimer: (fn: () => void, ms: number) => TimerHandle;
  clearTimer: (handle: TimerHandle) => void;
};

/** Timers and the time they run on. */
export type Clock = TimerAdapter & { now: () => number };

/** The real clock and timers, for wiring the policies in the worker. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
