/** The one scope check data handlers call: operation × table against the presented key's scopes. */
import type { Operation } from '../../drizzle/schema.js';
import { GatewayError } from '../errors.js';
import type { AuthContext } from './context.js';

/** True when the key (or anonymous access) may run `operation` on `table` (`schema.table` or `table`). */
export function isAllowed(auth: AuthContext, operation: Operation, table: string): boolean {
  if (!auth.key) return auth.authenticated === false; // anonymous under optional enforcement
  const { operations, tables } = auth.key.scopes;
  if (!operations.includes(operation)) return false;
  if (tables.includes('*')) return true;
  const bare = table.includes('.') ? table.slice(table.indexOf('.') + 1) : table;
  const qualified = table.includes('.') ? table : `public.${table}`;
  return tables.includes(table) || tables.includes(bare) || tables.includes(qualified);
}

/** Throws 403 `scope_denied` unless allowed. */
export function assertScope(auth: AuthContext, operation: Operation, table: string): void {
  if (!isAllowed(auth, operation, table)) {
    throw new GatewayError('scope_denied', `This API key may not ${operation} ${table}`, {
      hint: 'Create a key whose scopes include this operation and table (npm run gateway -- keys create --help).',
    });
  }
}
