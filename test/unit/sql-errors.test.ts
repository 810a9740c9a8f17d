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
    ['55P03', 408, 'statement_timeout'],
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

  it('never passes on detail, hint or where: they quote row values and tables outside the scope', () => {
    const extra = {
      detail: 'Failing row contains (null, secret-title, f, 2026-01-01, 1).',
      hint: 'hint-x',
      where: 'SQL statement "INSERT … \'where-x\'"',
      schema: 'public',
      table: 'todos',
    };
    for (const code of ['23502', '23514', '23505', '23503', '23P01', '23001', '22P02', '22001', '42601', 'XX000', '428C9']) {
      const mapped = mapPgError(pg(code, 'server text with secret-title', extra), () => true);
      const shown = `${mapped.message} ${mapped.hint ?? ''}`;
      expect(shown, code).not.toMatch(/secret-title|Failing row|hint-x|where-x/);
    }
    // RAISE in a tenant function: its own message is for its caller; its DETAIL and HINT are not passed on.
    const raised = mapPgError(pg('P0001', 'order 7 is closed', extra), () => true);
    expect([raised.status, raised.message, raised.hint]).toEqual([400, 'order 7 is closed', null]);
  });
});

describe('integrity errors name columns of tables inside the scope, never values', () => {
  const all = () => true;
  const none = () => false;
  const unique = pg('23505', 'duplicate key value violates unique constraint "todos_pkey"', {
    detail: 'Key (id)=(1) already exists.',
    schema: 'public',
    table: 'todos',
    constraint: 'todos_pkey',
  });

  it('23505: 409 naming the key columns, without the value', () => {
    const mapped = mapPgError(unique, all);
    expect([mapped.status, mapped.code, mapped.message]).toEqual([409, 'conflict', 'A row with the same "id" already exists']);
    const pair = mapPgError(pg('23505', 'x', { detail: 'Key (owner_id, "Slug")=(7, a(b)=(c)) already exists.', schema: 'app', table: 't' }), all);
    expect(pair.message).toBe('A row with the same "owner_id", "Slug" already exists');
  });

  it('23505 on a table outside the scope, or of an expression index, names no column', () => {
    expect(mapPgError(unique, none).message).toBe('A row with the same unique key already exists');
    expect(mapPgError(unique).message).toBe('A row with the same unique key already exists');
    const expression = pg('23505', 'x', { detail: 'Key (lower(email))=(a@x) already exists.', schema: 'public', table: 'users' });
    expect(mapPgError(expression, all).message).toBe('A row with the same unique key already exists');
  });

  it('23503: 409 naming no table on either side', () => {
    const referenced = mapPgError(
      pg('23503', 'update or delete on table "todos" violates foreign key constraint "secret_notes_todo_id_fkey" on table "secret_notes"', {
        detail: 'Key (id)=(1) is still referenced from table "secret_notes".',
        schema: 'public',
        table: 'secret_notes',
        constraint: 'secret_notes_todo_id_fkey',
      }),
      all,
    );
    expect([referenced.status, referenced.message]).toEqual([409, 'The row is still referenced by other rows']);
    const missing = mapPgError(pg('23503', 'x', { detail: 'Key (todo_id)=(42) is not present in table "todos".', schema: 'public', table: 'notes' }), all);
    expect([missing.status, missing.message]).toEqual([409, '"todo_id" refers to a row that does not exist']);
    expect(mapPgError(pg('23503', 'x', { detail: 'Schlüssel (a)=(1) …' }), all).message).toMatch(/^A foreign key does not hold/);
    for (const m of [referenced, missing]) expect(`${m.message} ${m.hint ?? ''}`).not.toMatch(/secret_notes|todos|42|fkey/);
  });

  it('23502 names the column; 23514 the column of a constraint Postgres named, else the constraint', () => {
    const notNull = mapPgError(
      pg('23502', 'null value in column "id" of relation "todos" violates not-null constraint', { column: 'id', schema: 'public', table: 'todos' }),
      all,
    );
    expect([notNull.status, notNull.code, notNull.message]).toEqual([400, 'invalid_request', 'Column "id" may not be null']);
    expect(mapPgError(pg('23502', 'x', { column: 'id', schema: 'public', table: 'todos' }), none).message).toBe('A required value is null');
    const check = (constraint: string) => mapPgError(pg('23514', 'x', { constraint, schema: 'public', table: 'todos' }), all).message;
    expect(check('todos_title_check')).toBe('The value of column "title" fails the table\'s check');
    expect(check('title_not_blank')).toBe('A value (check constraint "title_not_blank") fails the table\'s check');
  });
});
