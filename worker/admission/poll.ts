/**
 * Waiting without being woken by anyone else: the waiter re-checks plain shared state on its own
 * timers. On Workers a promise resolved from another request resumes the waiter inside that other
 * request (its next I/O then fails), so a waiter's only wake-ups are timers it created itself.
 */
import type { Clock, TimerAdapter } from './clock.js';

/** First re-check after 1 ms, doubling up to this: a grant or a loaded value is seen within it. */
const MAX_POLL_MS = 8;

export type PollResult<T> = { ok: true; value: T } | { ok: false; reason: 'timeout' | 'cancelled' };

/** Resolves after `ms` on a timer of the caller's own. */
function sleep(clock: TimerAdapter, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(resolve, ms);
  });
}

/**
 * Calls `check` until it returns a value, `deadline` (clock time) passes or `signal` aborts. The
 * first check runs at once; each later one after a sleep of the caller's own.
 */
export async function pollFor<T>(clock: Clock, check: () => T | undefined, deadline: number, signal?: AbortSignal): Promise<PollResult<T>> {
  let delay = 1;
  for (;;) {
    const value = check();
    if (value !== undefined) return { ok: true, value };
    if (signal?.aborted) return { ok: false, reason: 'cancelled' };
    const left = deadline - clock.now();
    if (left <= 0) return { ok: false, reason: 'timeout' };
    await sleep(clock, Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/**
 * `p`, or timeout at `deadline`, or cancellation by `signal`. Only for a promise of the caller's
 * own I/O: every other wake-up is the caller's own timer or its own request's abort event.
 */
export function raceOwn<T>(clock: Clock, p: Promise<T>, deadline: number, signal: AbortSignal | undefined): Promise<PollResult<T>> {
  return new Promise((resolve) => {
    const finish = (r: PollResult<T>): void => {
      clock.clearTimer(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'cancelled' });
    const timer = clock.setTimer(() => finish({ ok: false, reason: 'timeout' }), Math.max(0, deadline - clock.now()));
    signal?.addEventListener('abort', onAbort, { once: true });
    void p.then((value) => finish({ ok: true, value }));
  });
}
