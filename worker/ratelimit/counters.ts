/**
 * This isolate's rate-limit figures for `/__gateway/status` and the console: refusals per client
 * (bounded rows) and how often the limiter could not answer (requests then went through).
 * The durable per-client total is `client_statistics.rate_limited`, through the counters.
 */
import { boundedRows, type BoundedRows } from '../auth/bounded-rows.js';

/** Distinct clients with their own row; the rest are summed under `(other)`. */
const MAX_CLIENT_ROWS = 1000;

type ClientFigures = { limited: number; blocked: number };

export type RateLimitCounters = { byClient: BoundedRows<ClientFigures>; limited: number; limiterUnavailable: number };

/** The isolate's rate-limit figures (one of its services). */
export const createRateLimitCounters = (): RateLimitCounters => ({
  byClient: boundedRows<ClientFigures>(MAX_CLIENT_ROWS, () => ({ limited: 0, blocked: 0 })),
  limited: 0,
  limiterUnavailable: 0,
});

/** Counts one refusal of `client`'s request (`blocked`: its limit is 0). */
export function countLimited(c: RateLimitCounters, client: string, blocked: boolean): void {
  c.limited++;
  const row = c.byClient.row(client);
  if (blocked) row.blocked++;
  else row.limited++;
}

/** Counts one request let through because the limiter could not answer. */
export function countLimiterUnavailable(c: RateLimitCounters): void {
  c.limiterUnavailable++;
}

export function rateLimitSnapshot(c: RateLimitCounters): { limited: number; limiterUnavailable: number; byClient: Record<string, ClientFigures> } {
  return { limited: c.limited, limiterUnavailable: c.limiterUnavailable, byClient: c.byClient.snapshot() };
}
