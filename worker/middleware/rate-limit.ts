/**
 * `rateLimit()`: right after `authenticate()`, holds the request to the limit auth found (the
 * key's own, else its client's default) before any permit or query. Allowed and refused answers
 * both carry `RateLimit-Policy` / `RateLimit`; a refusal is 429 `rate_limited` with `Retry-After`.
 * A limit of 0 (blocked) is refused without asking the limiter. When the limiter cannot answer,
 * the request goes through (logged): the limiter is never a reason to refuse what it did not judge.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthedEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { answerError } from './errors.js';
import { log } from '../log.js';
import { formatRateLimit, type AppliedLimit } from '../ratelimit/limit.js';
import { hitLimiter } from '../ratelimit/limiter-client.js';
import { ceilSeconds, rateLimitHeaders } from '../ratelimit/headers.js';
import type { Verdict } from '../ratelimit/window.js';
import { countLimited, countLimiterUnavailable } from '../ratelimit/counters.js';

export const rateLimit = (): MiddlewareHandler<AuthedEnv> =>
  async function rateLimit(c, next) {
    const limit = c.get('auth').rateLimit;
    if (!limit) return next();
    const verdict = limit.requests === 0 ? blockedVerdict(limit) : await ask(c, limit);
    if (!verdict) return next();
    const headers = rateLimitHeaders(limit, verdict);
    if (!verdict.allowed) {
      countLimited(c.get('ctx').services.rateLimits, c.get('auth').clientName, limit.requests === 0);
      const res = answerError(c, refusal(limit, verdict));
      for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
      return res;
    }
    await next();
    setHeaders(c, headers);
  };

function blockedVerdict(limit: AppliedLimit): Verdict {
  return { allowed: false, remaining: 0, resetMs: limit.periodS * 1000 };
}

async function ask(c: Context<AuthedEnv>, limit: AppliedLimit): Promise<Verdict | undefined> {
  const answer = await hitLimiter(c.env?.RATE_LIMITER, limit, c.get('ctx').settings.RATE_LIMITER_TIMEOUT_MS);
  if (answer.ok) return answer.verdict;
  countLimiterUnavailable(c.get('ctx').services.rateLimits);
  log('warn', 'rate_limiter_unavailable', { requestId: c.get('ctx').requestId, scope: limit.scope, reason: answer.reason });
  return undefined;
}

function refusal(limit: AppliedLimit, verdict: Verdict): GatewayError {
  const whose = limit.scope === 'key' ? 'this API key' : 'this client';
  const retryAfter = Math.max(1, ceilSeconds(verdict.resetMs));
  if (limit.requests === 0) {
    return new GatewayError('rate_limited', `Requests are blocked for ${whose} (rate limit 0)`, {
      hint: `An operator blocked ${whose} with a rate limit of 0; it stays refused until the limit is changed.`,
      retryAfter,
    });
  }
  return new GatewayError('rate_limited', `Rate limit of ${whose} exceeded (${formatRateLimit(limit)})`, {
    hint: `Wait Retry-After seconds (${retryAfter}) before the next request; RateLimit-Policy names the limit.`,
    retryAfter,
  });
}

/** Adds headers to the response the chain produced (rebuilt when its headers are immutable). */
function setHeaders(c: Context<AuthedEnv>, headers: Record<string, string>): void {
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  } catch {
    const res = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
    c.res = res;
  }
}
