/**
 * What the server says its timeouts are, asked through the gateway's own mechanism (a bounded
 * statement, bounded-query.ts): readiness proves the bounds reach the server on every target,
 * whatever proxy or pooler sits in between, and the status document shows the last answer.
 */
import type { Settings } from '../config.js';

/** The check's statement: the database clock (liveness) and the timeouts in force for it, in ms. */
export const SERVER_TIMEOUTS_SQL =
  "SELECT now()::text AS now, (SELECT setting FROM pg_settings WHERE name = 'statement_timeout')::int AS statement_ms, " +
  "(SELECT setting FROM pg_settings WHERE name = 'lock_timeout')::int AS lock_ms";

export type ServerTimeoutsRow = { now: string; statement_ms: number; lock_ms: number };

/** One target's answer, as reported by `/__gateway/ready` and kept for the status document. */
export type ServerTimeouts = {
  target: string;
  statementTimeoutMs: number | null;
  lockTimeoutMs: number | null;
  /** What every statement of a session on this target is given (DB_STATEMENT_TIMEOUT_MS). */
  expectedMs: number;
  inForce: boolean;
  checkedAt: string;
};

/** The last answer per target label (an isolate service: plain data). */
export type ServerTimeoutsLog = Map<string, ServerTimeouts>;

/** Judges one answer: both timeouts must be exactly what the gateway sends. */
export function judgeTimeouts(settings: Settings, target: string, row: ServerTimeoutsRow | undefined, now: number): ServerTimeouts {
  const expectedMs = settings.DB_STATEMENT_TIMEOUT_MS;
  const statementTimeoutMs = row?.statement_ms ?? null;
  const lockTimeoutMs = row?.lock_ms ?? null;
  return {
    target,
    statementTimeoutMs,
    lockTimeoutMs,
    expectedMs,
    inForce: statementTimeoutMs === expectedMs && lockTimeoutMs === expectedMs,
    checkedAt: new Date(now).toISOString(),
  };
}
