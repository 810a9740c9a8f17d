/** The one scope check data handlers call: operation × table against the presented key's scopes. */
import type { Operation } from '../../drizzle/schema.js';
import { GatewayError } from '../errors.js';
import type { AuthContext } from './context.js';

/**
 * `schema.table` for a table reference; a bare name means `public`. Scope entries and requested
 * tables are compared in this form, so a key scoped to `users` never reaches `billing.users`.
 */
function qualifiedTable(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

/**
 * True when the key (or anonymous access) may run `operation` on `table` (`schema.table` or `table`).
 * A request admitted by fail-open has no key and is never a write.
 */
export function isAllowed(auth: AuthContext, operation: Operation, table: string): boolean {
  if (!auth.key && auth.failOpen) return operation === 'read'; // unverified: AUTH_FAIL_OPEN_SCOPES=read at most
  if (!auth.key) return auth.authenticated === false; // anonymous under optional enforcement
  const { operations, tables } = auth.key.scopes;
  return operations.includes(operation) && listed(tables, table);
}

/** `name` is in a scope list: `*`, `schema.*`, or the name itself (bare = public). */
function listed(entries: readonly string[], name: string): boolean {
  const wanted = qualifiedTable(name);
  const schema = wanted.slice(0, wanted.indexOf('.'));
  return entries.some((entry) => entry === '*' || entry === `${schema}.*` || qualifiedTable(entry) === wanted);
}

/** True when the key has the `rpc` scope and lists `fn` (`schema.fn`, a bare name means `public`). */
export function isFunctionAllowed(auth: AuthContext, fn: string): boolean {
  if (!auth.key) return auth.authenticated === false;
  const { operations, functions = [] } = auth.key.scopes;
  return operations.includes('rpc') && listed(functions, fn);
}

/** Throws 403 `scope_denied` unless the key may call `fn`. */
export function assertFunctionScope(auth: AuthContext, fn: string): void {
  if (!isFunctionAllowed(auth, fn)) {
    throw new GatewayError('scope_denied', `This API key may not call ${fn}`, {
      hint: 'Create a key with the rpc scope that lists this function (keys create --scopes rpc --functions <fn>).',
    });
  }
}

/** Throws 403 `scope_denied` unless allowed. */
export function assertScope(auth: AuthContext, operation: Operation, table: string): void {
  if (!isAllowed(auth, operation, table)) {
    throw new GatewayError('scope_denied', `This API key may not ${operation} ${table}`, {
      hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
    });
  }
}
