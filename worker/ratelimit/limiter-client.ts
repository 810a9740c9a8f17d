/**
 * Asks the `RATE_LIMITER` Durable Object of a window whether one more request fits, over RPC. Thin
 * I/O: the answer is the object's verdict, or null when it could not be had (binding missing,
 * object unreachable or throwing, slower than RATE_LIMITER_TIMEOUT_MS) — the caller then lets the
 * request through rather than hold it up.
 */
import type { AppliedLimit } from './limit.js';
import type { Verdict } from './window.js';

export type LimiterAnswer = { ok: true; verdict: Verdict } | { ok: false; reason: 'no_binding' | 'failed' };

/** Counts one request in `limit`'s window. `limiters` is the RATE_LIMITER binding (typed by `wrangler types`). */
export async function hitLimiter(limiters: Env['RATE_LIMITER'] | undefined, limit: AppliedLimit, timeoutMs: number): Promise<LimiterAnswer> {
  if (!limiters) return { ok: false, reason: 'no_binding' };
  let timer: ReturnType<typeof setTimeout> | undefined;
  // This request's own timer: the race never resumes on a promise another request settles.
  const timeout = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), timeoutMs)));
  try {
    const stub = limiters.get(limiters.idFromName(limit.bucket));
    const verdict = await Promise.race([stub.hit(limit.requests, limit.periodS), timeout]);
    return verdict ? { ok: true, verdict } : { ok: false, reason: 'failed' };
  } catch {
    return { ok: false, reason: 'failed' };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
