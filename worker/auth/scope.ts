/** The one scope check data handlers call: operation × (schema, table) against the presented key's scopes. */
import type { Operation } from '../../drizzle/schema.js';
import { GatewayError } from '../errors.js';
import { clipped } from '../gateway/clip.js';
import type { AuthContext } from './context.js';
import { tableRef, type TableRef } from './table-ref.js';

/**
 * True when the key (or anonymous access) may run `operation` on `table`.
 * A request admitted by fail-open has no key and is never a write.
 */
export function isAllowed(auth: AuthContext, operation: Operation, table: TableRef): boolean {
  if (!auth.key && auth.failOpen) return operation === 'read'; // unverified: AUTH_FAIL_OPEN_SCOPES=read at most
  if (!auth.key) return auth.authenticated === false; // anonymous under optional enforcement
  const { operations, tables } = auth.key.scopes;
  return operations.includes(operation) && listed(tables, table);
}

/**
 * `ref` is in a scope list: `*`, `schema.*`, `schema.name` or a bare name (public). Each entry is
 * split once into its pair and compared part by part: `app.*` covers schema `app` only.
 */
function listed(entries: readonly string[], ref: TableRef): boolean {
  return entries.some((entry) => {
    if (entry === '*') return true;
    const { schema, name } = tableRef(entry);
    return schema === ref.schema && (name === '*' || name === ref.name);
  });
}

/** True when the key has the `rpc` scope and lists `fn` (same entry forms as tables). */
export function isFunctionAllowed(auth: AuthContext, fn: TableRef): boolean {
  if (!auth.key) return auth.authenticated === false;
  const { operations, functions = [] } = auth.key.scopes;
  return operations.includes('rpc') && listed(functions, fn);
}

/** Throws 403 `scope_denied` unless the key may call `fn`. */
export function assertFunctionScope(auth: AuthContext, fn: TableRef): void {
  if (!isFunctionAllowed(auth, fn)) {
    throw new GatewayError('scope_denied', `This API key may not call ${clipped(`${fn.schema}.${fn.name}`, 80)}`, {
      hint: 'Create a key with the rpc scope that lists this function (keys create --scopes rpc --functions <fn>).',
    });
  }
}

/** What the 403 for a table outside the key's scope says; `shown` (what the client sent) is all it names. */
export function scopeDenial(operation: Operation, shown: string): { message: string; hint: string } {
  return {
    message: `This API key may not ${operation} ${clipped(shown, 80)}`,
    hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
  };
}

/** Throws 403 `scope_denied` unless allowed; the message names the table as `written`, else as schema.name. */
export function assertScope(auth: AuthContext, operation: Operation, table: TableRef, written?: string): void {
  if (isAllowed(auth, operation, table)) return;
  const { message, hint } = scopeDenial(operation, written ?? `${table.schema}.${table.name}`);
  throw new GatewayError('scope_denied', message, { hint });
}

/**
 * Throws 403 `scope_denied` unless the key may run `operation` on some table: a route that spends
 * work on a body before it knows the table (parsing SQL text) refuses a key that could use none.
 */
export function assertAnyTableScope(auth: AuthContext, operation: Operation): void {
  const some = auth.key
    ? auth.key.scopes.operations.includes(operation) && auth.key.scopes.tables.length > 0
    : isAllowed(auth, operation, { schema: '*', name: '*' });
  if (!some) {
    throw new GatewayError('scope_denied', `This API key may not ${operation} any table`, {
      hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
    });
  }
}
