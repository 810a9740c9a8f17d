/**
 * Judging what the server says about its timeouts (readiness): in force only when both are exactly
 * what the gateway sends; the server default (0 = none) or a pooler's own value is not.
 */
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../worker/config.js';
import { judgeTimeouts } from '../../worker/db/server-timeouts.js';
import { boundsStatement, isControl } from '../../worker/db/bounded-query.js';

const parsed = parseSettings({ DATABASE_URL: 'postgres://u:p@db.example:5432/app', DB_STATEMENT_TIMEOUT_MS: '5000' });
if (!parsed.ok) throw new Error(parsed.problem);
const settings = parsed.settings;

describe('judgeTimeouts', () => {
  it('in force only when statement and lock timeout both equal DB_STATEMENT_TIMEOUT_MS', () => {
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(judgeTimeouts(settings, 't', { now: 'x', statement_ms: 5000, lock_ms: 5000 }, at)).toEqual({
      target: 't',
      statementTimeoutMs: 5000,
      lockTimeoutMs: 5000,
      expectedMs: 5000,
      inForce: true,
      checkedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(judgeTimeouts(settings, 't', { now: 'x', statement_ms: 0, lock_ms: 0 }, at).inForce).toBe(false); // startup parameters dropped, nothing else
    expect(judgeTimeouts(settings, 't', { now: 'x', statement_ms: 5000, lock_ms: 0 }, at).inForce).toBe(false);
    expect(judgeTimeouts(settings, 't', undefined, at)).toMatchObject({ statementTimeoutMs: null, inForce: false });
  });
});

describe('bounds statement', () => {
  it('puts both timeouts and the socket check in force for the transaction only, never 0 ms (no limit)', () => {
    const text = boundsStatement({ statementTimeoutMs: 0.2, lockTimeoutMs: 1500 });
    expect(text).toContain("pg_catalog.set_config('statement_timeout', '1', true)");
    expect(text).toContain("pg_catalog.set_config('lock_timeout', '1500', true)");
    expect(text).toContain("pg_catalog.set_config('client_connection_check_interval', '1000', true)");
  });

  it('sends transaction control (and what Postgres refuses in a transaction) as it is', () => {
    for (const t of ['BEGIN', 'begin isolation level serializable', 'START TRANSACTION', 'COMMIT', 'ROLLBACK', 'END', 'CREATE DATABASE x', 'VACUUM t'])
      expect(isControl(t), t).toBe(true);
    for (const t of ['SELECT 1', 'INSERT INTO begin_log VALUES (1)', 'WITH x AS (SELECT 1) SELECT * FROM x', 'UPDATE t SET a = 1'])
      expect(isControl(t), t).toBe(false);
  });
});
