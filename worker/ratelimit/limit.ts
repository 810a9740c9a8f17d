/**
 * A rate limit as the catalog holds it (`requests` per `periodS` seconds; 0 requests = blocked),
 * its text form for operators (`100/10s`, `600/1m`), and which limit applies to a request: the
 * key's own, else its client's default. Pure.
 */
import { RATE_LIMIT_MAX_PERIOD_S } from '../../drizzle/schema.js';

export type RateLimit = { requests: number; periodS: number };

/** The limit a request is held to: whose window it counts in, and its size. */
export type AppliedLimit = RateLimit & {
  /** `key` = the key's own limit, `client` = the client's default (one window for all its keys). */
  scope: 'key' | 'client';
  /** The window's name: `key:<id>` or `client:<name>`. */
  bucket: string;
};

/** Largest number of requests a limit may allow (the column is a Postgres integer). */
export const MAX_LIMIT_REQUESTS = 1_000_000_000;

const TEXT = /^(\d{1,10})\/(\d{0,3})(s|m)$/;

export type ParsedLimit = { ok: true; limit: RateLimit } | { ok: false; problem: string };

/** Parses `<requests>/<period>`: period `10s`, `60s`, `1m` (`s` alone = 1 s), 1 s to 60 s. */
export function parseRateLimit(text: string): ParsedLimit {
  const m = TEXT.exec(text.trim());
  if (!m) return { ok: false, problem: `"${text.slice(0, 40)}" is not a rate limit: use <requests>/<period>, e.g. 100/10s or 600/1m` };
  const requests = Number(m[1]);
  const periodS = (m[2] === '' ? 1 : Number(m[2])) * (m[3] === 'm' ? 60 : 1);
  if (requests > MAX_LIMIT_REQUESTS) return { ok: false, problem: `at most ${MAX_LIMIT_REQUESTS} requests per period` };
  if (periodS < 1 || periodS > RATE_LIMIT_MAX_PERIOD_S) return { ok: false, problem: `the period must be 1s to ${RATE_LIMIT_MAX_PERIOD_S}s` };
  return { ok: true, limit: { requests, periodS } };
}

/** `100/10s`; `none` for no limit. */
export function formatRateLimit(limit: RateLimit | null): string {
  return limit === null ? 'none' : `${limit.requests}/${limit.periodS}s`;
}

/** The limit stored in a row's two columns (anything but a whole pair = none). */
export function rateLimitOf(requests: number | null | undefined, periodS: number | null | undefined): RateLimit | null {
  if (requests === null || requests === undefined || periodS === null || periodS === undefined) return null;
  return { requests: Number(requests), periodS: Number(periodS) };
}

/** A limit as the catalog's two columns (both null = none). */
export function limitColumns(limit: RateLimit | null): { rateLimitRequests: number | null; rateLimitPeriodS: number | null } {
  return { rateLimitRequests: limit?.requests ?? null, rateLimitPeriodS: limit?.periodS ?? null };
}

/** The key's own limit wins over its client's default; none of either = unlimited. */
export function applicableLimit(
  key: { id: string; rateLimit: RateLimit | null } | undefined,
  client: { clientName: string; rateLimit: RateLimit | null },
): AppliedLimit | undefined {
  if (key?.rateLimit) return { ...key.rateLimit, scope: 'key', bucket: `key:${key.id}` };
  if (client.rateLimit) return { ...client.rateLimit, scope: 'client', bucket: `client:${client.clientName}` };
  return undefined;
}
