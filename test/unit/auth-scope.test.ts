/** The scope check the data handlers call, and how key rows' scopes and states are read. */
import { describe, expect, it } from 'vitest';
import { assertScope, isAllowed as isAllowedPair, isFunctionAllowed as isFunctionAllowedPair } from '../../worker/auth/scope.js';
import { tableRef, type TableRef } from '../../worker/auth/table-ref.js';
import { keyState, parseScopes } from '../../worker/auth/keys.js';
import type { KeyRecord } from '../../worker/auth/records.js';
import type { AuthContext } from '../../worker/auth/context.js';
import { GatewayError } from '../../worker/errors.js';
import type { KeyScopes, Operation } from '../../drizzle/schema.js';

const withScopes = (scopes: KeyScopes): AuthContext => ({
  clientName: 'acme',
  authenticated: true,
  key: { id: 'k', prefix: 'ath_abcdefghij', scopes, expiresAt: null },
});

/** The checks on a name as a client writes it: split once into its pair, as the routes do. */
const isAllowed = (auth: AuthContext, op: Operation, written: string) => isAllowedPair(auth, op, tableRef(written));
const isFunctionAllowed = (auth: AuthContext, written: string) => isFunctionAllowedPair(auth, tableRef(written));

describe('scope check', () => {
  it('needs both the operation and the table', () => {
    const auth = withScopes({ operations: ['read', 'insert'], tables: ['users', 'app.orders'] });
    expect(isAllowed(auth, 'read', 'users')).toBe(true);
    expect(isAllowed(auth, 'read', 'public.users')).toBe(true);
    expect(isAllowed(auth, 'insert', 'app.orders')).toBe(true);
    expect(isAllowed(auth, 'update', 'users')).toBe(false);
    expect(isAllowed(auth, 'read', 'orders')).toBe(false); // public.orders ≠ app.orders
    expect(isAllowed(auth, 'read', 'billing.users')).toBe(false); // a bare scope means public
  });

  it('"*" grants every table, "schema.*" every table of that schema', () => {
    expect(isAllowed(withScopes({ operations: ['delete'], tables: ['*'] }), 'delete', 'any.thing')).toBe(true);
    const app = withScopes({ operations: ['read'], tables: ['app.*'] });
    expect(isAllowed(app, 'read', 'app.orders')).toBe(true);
    expect(isAllowed(app, 'read', 'orders')).toBe(false);
  });

  it('anonymous (optional enforcement, no key) is allowed; an unscoped key is not', () => {
    expect(isAllowed({ clientName: 'acme', authenticated: false }, 'update', 'users')).toBe(true);
    expect(isAllowed(withScopes({ operations: [], tables: [] }), 'read', 'users')).toBe(false);
  });

  it('functions need the rpc operation and a listed name; no list grants none', () => {
    const auth = withScopes({ operations: ['rpc'], tables: [], functions: ['add', 'app.*'] });
    expect(isFunctionAllowed(auth, 'public.add')).toBe(true);
    expect(isFunctionAllowed(auth, 'app.anything')).toBe(true);
    expect(isFunctionAllowed(auth, 'billing.add')).toBe(false);
    expect(isFunctionAllowed(withScopes({ operations: ['rpc'], tables: ['*'] }), 'public.add')).toBe(false);
    expect(isFunctionAllowed(withScopes({ operations: ['read'], tables: ['*'], functions: ['*'] }), 'public.add')).toBe(false);
    expect(isAllowed(auth, 'read', 'add')).toBe(false);
  });

  it('assertScope throws 403 scope_denied', () => {
    const auth = withScopes({ operations: ['read'], tables: ['users'] });
    expect(() => assertScope(auth, 'read', tableRef('users'))).not.toThrow();
    try {
      assertScope(auth, 'delete', tableRef('users'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ code: 'scope_denied', status: 403 });
    }
  });
});

describe('scope check on (schema, table) pairs', () => {
  const app = withScopes({ operations: ['read'], tables: ['app.*', 'app.orders', 'users'] });
  const pair = (schema: string, name: string): TableRef => ({ schema, name });

  it('a written name is split once, at its first dot; a bare name is public', () => {
    expect(tableRef('users')).toEqual(pair('public', 'users'));
    expect(tableRef('app.orders')).toEqual(pair('app', 'orders'));
    expect(tableRef('app.b.c')).toEqual(pair('app', 'b.c'));
  });

  it('a schema whose name contains a dot is never taken for the schema before it', () => {
    expect(isAllowedPair(app, 'read', pair('app.b', 'c'))).toBe(false); // "app.b".c: not in app.*
    expect(isAllowedPair(app, 'read', pair('app.orders', 'x'))).toBe(false);
    expect(isAllowedPair(app, 'read', pair('app', 'b.c'))).toBe(true); // app."b.c" is in app.*
    expect(isAllowedPair(app, 'read', pair('public.users', 'x'))).toBe(false);
    expect(isAllowedPair(app, 'read', pair('public', 'users'))).toBe(true);
    expect(isAllowedPair(withScopes({ operations: ['read'], tables: ['*'] }), 'read', pair('app.b', 'c'))).toBe(true);
  });

  it('functions are compared as pairs too', () => {
    const fns = withScopes({ operations: ['rpc'], tables: [], functions: ['app.*'] });
    expect(isFunctionAllowedPair(fns, pair('app', 'f'))).toBe(true);
    expect(isFunctionAllowedPair(fns, pair('app.x', 'f'))).toBe(false);
  });

  it('the refusal names the table as the client wrote it', () => {
    expect(() => assertScope(app, 'read', pair('app.b', 'c'), 'c_id')).toThrow(/^This API key may not read c_id$/);
  });
});

describe('key rows', () => {
  it('parseScopes keeps known operations and string tables, and fails closed on junk', () => {
    expect(parseScopes({ operations: ['read', 'drop', 'read'], tables: ['users', 3, ''] })).toEqual({ operations: ['read'], tables: ['users'] });
    expect(parseScopes('{"operations":["update"],"tables":["*"]}')).toEqual({ operations: ['update'], tables: ['*'] });
    expect(parseScopes({ operations: ['rpc'], tables: [], functions: ['add', 7, 'add'] })).toEqual({ operations: ['rpc'], tables: [], functions: ['add'] });
    for (const junk of [null, 'nope', ['read'], { operations: 'read' }]) expect(parseScopes(junk)).toEqual({ operations: [], tables: [] });
  });

  it('keyState judges revocation and expiry at use time', () => {
    const key: KeyRecord = { id: 'k', clientName: 'c', prefix: 'p', scopes: { operations: [], tables: [] }, expiresAt: null, revokedAt: null, rateLimit: null };
    expect(keyState(key, 1000)).toBe('active');
    expect(keyState({ ...key, expiresAt: 1000 }, 999)).toBe('active');
    expect(keyState({ ...key, expiresAt: 1000 }, 1000)).toBe('expired');
    expect(keyState({ ...key, revokedAt: 500, expiresAt: 1000 }, 2000)).toBe('revoked');
  });
});
