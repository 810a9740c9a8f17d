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
  if (!operations.includes(operation)) return false;
  const wanted = qualifiedTable(table);
  const schema = wanted.slice(0, wanted.indexOf('.'));
  return tables.some((entry) => entry === '*' || entry === `${schema}.*` || qualifiedTable(entry) === wanted);
}

/** Throws 403 `scope_denied` unless allowed. */
export function assertScope(auth: AuthContext, operation: Operation, table: string): void {
  if (!isAllowed(auth, operation, table)) {
    throw new GatewayError('scope_denied', `This API key may not ${operation} ${table}`, {
      hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
    });
  }
}
