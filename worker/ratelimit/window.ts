/**
 * The counting rule of one limiter: a fixed window that opens at the first request after the
 * previous one closed and lasts the limit's period. At most `requests` are allowed per window;
 * a refused request does not count. Pure, clock injected by the caller.
 */
export type WindowState = { startedAt: number; count: number };

export type Verdict = {
  allowed: boolean;
  /** Requests still allowed in this window after this one. */
  remaining: number;
  /** Ms until the window closes (the quota resets). */
  resetMs: number;
};

/** Counts one request at `now` against `requests` per `periodMs`; returns the new state and verdict. */
export function hitWindow(state: WindowState | undefined, now: number, requests: number, periodMs: number): { state: WindowState; verdict: Verdict } {
  const current = state && now - state.startedAt < periodMs && now >= state.startedAt ? state : { startedAt: now, count: 0 };
  const resetMs = current.startedAt + periodMs - now;
  if (current.count >= requests) return { state: current, verdict: { allowed: false, remaining: 0, resetMs } };
  const next = { startedAt: current.startedAt, count: current.count + 1 };
  return { state: next, verdict: { allowed: true, remaining: requests - next.count, resetMs } };
}
