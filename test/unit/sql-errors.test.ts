import { describe, expect, it } from 'vitest';
import { mapPgError } from '../../worker/gateway/pg-errors.js';

const pg = (code: string, message = 'boom', extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe('Postgres errors → gateway errors (docs/protocol.md status map)', () => {
  it.each([
    ['23505', 409, 'conflict'],
    ['23503', 409, 'conflict'],
    ['40001', 409, 'conflict'],
    ['40P01', 409, 'conflict'],
    ['23502', 400, 'invalid_request'],
    ['23514', 400, 'invalid_request'],
    ['22P02', 400, 'invalid_request'],
    ['42703', 400, 'unknown_column'],
    ['42P01', 400, 'unknown_table'],
    ['42883', 400, 'invalid_request'],
    ['42P10', 400, 'invalid_request'],
    ['42501', 403, 'forbidden_table'],
    ['57014', 408, 'statement_timeout'],
    ['53300', 503, 'database_unavailable'],
    ['08006', 503, 'database_unavailable'],
    ['57P01', 503, 'database_unavailable'],
    ['XX000', 500, 'internal_error'],
  ])('%s → %i %s', (code, status, gatewayCode) => {
    const mapped = mapPgError(pg(code));
    expect(mapped.status).toBe(status);
    expect(mapped.code).toBe(gatewayCode);
    if (status === 503) expect(mapped.retryAfter).toBeGreaterThan(0);
  });

  it('errors without a SQLSTATE are connection failures: 503', () => {
    expect(mapPgError(new Error('WebSocket closed')).code).toBe('database_unavailable');
    expect(mapPgError('weird').code).toBe('database_unavailable');
  });

  it('never passes on the text of syntax-class errors, which can quote SQL', () => {
    const mapped = mapPgError(pg('42601', 'syntax error at or near "DROP" in SELECT * FROM "public"."users"'));
    expect(mapped.status).toBe(400);
    expect(`${mapped.message} ${mapped.hint ?? ''}`).not.toMatch(/SELECT|DROP|users/);
  });

  it('keeps data-error messages and details, which describe values only', () => {
    const mapped = mapPgError(pg('23505', 'duplicate key value violates unique constraint "users_email_key"', { detail: 'Key (email)=(a@x) already exists.' }));
    expect(mapped.message).toContain('users_email_key');
    expect(mapped.hint).toBe('Key (email)=(a@x) already exists.');
  });
});
