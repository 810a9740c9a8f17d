/**
 * The rate-limit response headers of the IETF httpapi draft ("RateLimit header fields for HTTP"):
 * `RateLimit-Policy: "<name>";q=<quota>;w=<window s>` and `RateLimit: "<name>";r=<remaining>;t=<s to reset>`,
 * plus `Retry-After` on a refusal. The policy name says whose limit it is (`key` or `client`).
 */
import type { AppliedLimit } from './limit.js';
import type { Verdict } from './window.js';

/** Whole seconds, rounded up, never 0 while time remains (a client retrying at 0 would be refused again). */
export const ceilSeconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

export function rateLimitHeaders(limit: AppliedLimit, verdict: Verdict): Record<string, string> {
  return {
    'ratelimit-policy': `"${limit.scope}";q=${limit.requests};w=${limit.periodS}`,
    ratelimit: `"${limit.scope}";r=${verdict.remaining};t=${ceilSeconds(verdict.resetMs)}`,
  };
}
