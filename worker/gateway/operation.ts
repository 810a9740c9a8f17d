/**
 * The shared path of every data route once its body is valid: scope check, tenant resolution,
 * one budgeted session on the tenant database, catalog lookup, counters label, then the route's SQL.
 * Database failures leave here only as gateway errors (pg-errors.ts); nothing else escapes.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AuthedEnv } from '../env.js';
import { OPERATIONS, type Operation } from '../../drizzle/schema.js';
import { GatewayError } from '../errors.js';
import { log } from '../log.js';
import { assertScope, isAllowed } from '../auth/scope.js';
import { tableRef, type TableRef } from '../auth/table-ref.js';
import type { AuthContext } from '../auth/context.js';
import type { Session } from '../db/session.js';
import { SessionUnavailableError, withSession } from '../db/with-session.js';
import { relationLabel, resolveRelation, type Catalog, type Relation } from './catalog.js';
import { invalidateCatalog, mayRefresh, tenantCatalog } from './catalog-source.js';
import type { Result } from './result.js';
import { mapPgError, sqlState, type MayName } from './pg-errors.js';
import { operatorFields, type PgFields } from './pg-error-detail.js';
import { describeIssue } from './schemas.js';
import { MAX_PARAMS } from './sql.js';
import type { Projection } from './sql-render.js';
import type { Statement } from '../../drizzle/statement.js';
import { returningIfReadable } from './plan.js';
import { resolveTenant, type Tenant } from './tenant.js';

/** A plan/parse result's value, or its error thrown as the HTTP error. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const { code, message, hint } = result.error;
  throw new GatewayError(code, message, hint === undefined ? {} : { hint });
}

/** Validates a parsed JSON body with a route's schema (400 `invalid_request` naming the field). */
export function parseBody<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new GatewayError('invalid_request', describeIssue(parsed.error), { hint: 'See docs/protocol.md for the body fields.' });
  return parsed.data;
}

/**
 * A mutation's plan with RETURNING only when the key may read the table: returned rows are a read,
 * so they need the `read` scope as well. Without it the mutation still runs and answers its count
 * with no rows, whatever `columns` asked for — the SDK sends `columns: "*"` on every insert, so a
 * 403 would refuse every insert of an insert-only key (docs/auth.md "The path, in order", step 7: scopes).
 */
export function scopeReturning<P extends { returning: Projection | null }>(c: Context<AuthedEnv>, table: TableRef, plan: P): P {
  return returningIfReadable(c.get('auth'), table, plan);
}

/** Runs one statement; more bind parameters than Postgres allows is 413, not a driver error. */
export async function run(session: Session, st: Statement): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
  return session.query(bindable(st).text, st.params);
}

/** `st`, or the 413 when it needs more bind parameters than Postgres allows (checked before anything is sent). */
export function bindable(st: Statement): Statement {
  if (st.params.length > MAX_PARAMS) {
    throw new GatewayError('payload_too_large', `Request needs ${st.params.length} values in one statement; the limit is ${MAX_PARAMS}`, {
      hint: 'Split the request (shorter "in" lists).',
    });
  }
  return st;
}

/**
 * Key scope check → tenant → session → relation → `fn`, which gets the whole catalog beside its
 * relation (embeds resolve other tables in it). Sets `c.get('counted')` once the table is known.
 */
export async function runOnTenant<T>(
  c: Context<AuthedEnv>,
  tableName: string,
  operation: Operation,
  fn: (session: Session, relation: Relation, catalog: Catalog) => Promise<T>,
): Promise<T> {
  assertScope(c.get('auth'), operation, tableRef(tableName), tableName);
  return withTenant(c, (session, tenant) =>
    withTenantCatalog(c, session, tenant, (catalog) => {
      const relation = unwrap(resolveRelation(catalog, tableName));
      c.set('counted', { tableName: relationLabel(relation), operation });
      return fn(session, relation, catalog);
    }),
  );
}

/**
 * Runs `attempt` on the tenant's catalog; when it fails on an unknown table or column and the
 * cached catalog is old enough, once more on a fresh one. Plans fail on unknown names before any
 * SQL runs, so the retry never repeats a write.
 */
export async function withTenantCatalog<T>(c: Context<AuthedEnv>, session: Session, tenant: Tenant, attempt: (catalog: Catalog) => Promise<T>): Promise<T> {
  const loaded = await tenantCatalog(c.get('ctx').services.catalogs, tenant.target.key, session);
  try {
    return await attempt(loaded.catalog);
  } catch (err) {
    const miss = err instanceof GatewayError && (err.code === 'unknown_table' || err.code === 'unknown_column');
    if (!miss || !mayRefresh(loaded, Date.now(), c.get('ctx').settings.CATALOG_RECHECK_MS)) throw err;
    return attempt((await tenantCatalog(c.get('ctx').services.catalogs, tenant.target.key, session, { refresh: true })).catalog);
  }
}

/**
 * Tenant → one budgeted session → `fn`; every failure leaves as a gateway error. `interactive`:
 * `fn` holds a transaction open between its own round trips (a WebSocket session on any transport).
 */
export async function withTenant<T>(
  c: Context<AuthedEnv>,
  fn: (session: Session, tenant: Tenant) => Promise<T>,
  opts: { interactive?: boolean } = {},
): Promise<T> {
  const ctx = c.get('ctx');
  const signal = c.req.raw.signal;
  const tenant = resolveTenant(ctx.isolate.settings, c.get('auth'));
  try {
    return await withSession(ctx, tenant.databaseUrl, 'tenant', (session) => fn(session, tenant), { signal, interactive: opts.interactive === true });
  } catch (err) {
    throw tenantError(c, tenant, err);
  }
}

/** A request value nested deeper than can be bound (or hashed for an idempotency key): 400. */
export function nestedTooDeeply(): GatewayError {
  return new GatewayError('invalid_request', 'A value in the request body is nested too deeply to bind', {
    hint: 'Flatten the value (json/jsonb and array values).',
  });
}

/** Maps what escaped a tenant session to the gateway error the client sees. */
function tenantError(c: Context<AuthedEnv>, tenant: Tenant, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof SessionUnavailableError) {
    // Distinct codes: a full budget is this isolate's own limit, an unreachable database is an outage.
    if (err.kind === 'budget_timeout') {
      return new GatewayError('database_busy', 'Tenant database busy', { hint: 'The gateway is at its connection budget for this database; retry shortly.' });
    }
    return new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'The database could not be reached; retry shortly.' });
  }
  // Binding a value nested thousands deep overflows JSON.stringify's stack: bad input, not the database.
  if (err instanceof RangeError) return nestedTooDeeply();
  return databaseError(c, tenant, err);
}

/**
 * A database error as the caller may see it (names only of tables inside the key's scope), and
 * one operator log line under the request id with the error's names and value-free shape
 * (docs/auth.md "What an error tells the caller").
 */
export function databaseError(c: Context<AuthedEnv>, tenant: Tenant, err: unknown): GatewayError {
  const ctx = c.get('ctx');
  const code = sqlState(err);
  // The cached catalog promised a table or column the database no longer has.
  if (code === '42P01' || code === '42703') invalidateCatalog(ctx.services.catalogs, tenant.target.key);
  const mapped = mapPgError(err, nameableBy(c.get('auth')));
  const fields = code ? operatorFields(err as PgFields, code) : { sqlstate: null };
  log(mapped.status >= 500 ? 'warn' : 'info', 'tenant_query_failed', {
    requestId: ctx.requestId,
    target: tenant.target.label,
    status: mapped.status,
    code: mapped.code,
    ...fields,
  });
  return mapped;
}

const TABLE_OPERATIONS = OPERATIONS.filter((op) => op !== 'rpc');

/** A table may be named in an error when the key holds any table scope on it. */
function nameableBy(auth: AuthContext): MayName {
  return (schema, table) => TABLE_OPERATIONS.some((op) => isAllowed(auth, op, { schema, name: table }));
}
