/** The real clock and timers, for wiring pure policies (budget, auth caches) in the worker. */
import type { TimerAdapter } from './budget.js';

export const systemClock: TimerAdapter & { now: () => number } = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
