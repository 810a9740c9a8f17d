/**
 * The shared path of every data route once its body is valid: scope check, tenant resolution,
 * one budgeted session on the tenant database, catalog lookup, counters label, then the route's SQL.
 * Database failures leave here only as gateway errors (pg-errors.ts); nothing else escapes.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../env.js';
import type { Operation } from '../../drizzle/schema.js';
import { GatewayError } from '../errors.js';
import { log } from '../log.js';
import { assertScope } from '../auth/scope.js';
import type { AuthContext } from '../auth/context.js';
import type { Session } from '../db/session.js';
import { SessionUnavailableError, withSession } from '../db/with-session.js';
import { relationLabel, resolveRelation, type Catalog, type Relation } from './catalog.js';
import { invalidateCatalog, mayRefresh, tenantCatalog } from './catalog-source.js';
import type { Result } from './filter.js';
import { mapPgError, sqlState } from './pg-errors.js';
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

/** The authenticated caller; the auth middleware runs before every data route. */
export function authOf(c: Context<AppEnv>): AuthContext {
  const auth = c.get('auth');
  if (!auth) throw new GatewayError('internal_error', 'Authentication did not run for this route');
  return auth;
}

/**
 * A mutation's plan with RETURNING only when the key may read the table: returned rows are a read,
 * so they need the `read` scope as well. Without it the mutation still runs and answers its count
 * with no rows, whatever `columns` asked for — the SDK sends `columns: "*"` on every insert, so a
 * 403 would refuse every insert of an insert-only key (docs/auth.md "The path, in order", step 7: scopes).
 */
export function scopeReturning<P extends { returning: Projection | null }>(c: Context<AppEnv>, tableName: string, plan: P): P {
  return returningIfReadable(authOf(c), tableName, plan);
}

/** Runs one statement; more bind parameters than Postgres allows is 413, not a driver error. */
export async function run(session: Session, st: Statement): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
  if (st.params.length > MAX_PARAMS) {
    throw new GatewayError('payload_too_large', `Request needs ${st.params.length} values in one statement; the limit is ${MAX_PARAMS}`, {
      hint: 'Split the request (fewer rows or shorter "in" lists).',
    });
  }
  return session.query(st.text, st.params);
}

/** What a route may need beyond its relation: the whole catalog (embeds resolve other tables in it). */
type TenantScope = { catalog: Catalog };

/** Scope → tenant → session → relation → `fn`. Sets `c.get('counted')` once the table is known. */
export async function runOnTenant<T>(
  c: Context<AppEnv>,
  tableName: string,
  operation: Operation,
  fn: (session: Session, relation: Relation, scope: TenantScope) => Promise<T>,
): Promise<T> {
  assertScope(authOf(c), operation, tableName);
  return withTenant(c, (session, tenant) =>
    withCatalog(c, session, tenant, (catalog) => {
      const relation = unwrap(resolveRelation(catalog, tableName));
      c.set('counted', { tableName: relationLabel(relation), operation });
      return fn(session, relation, { catalog });
    }),
  );
}

/**
 * Runs `attempt` on the tenant's catalog; when it fails on an unknown table or column and the
 * cached catalog is old enough, once more on a fresh one. Plans fail on unknown names before any
 * SQL runs, so the retry never repeats a write.
 */
export async function withCatalog<T>(c: Context<AppEnv>, session: Session, tenant: Tenant, attempt: (catalog: Catalog) => Promise<T>): Promise<T> {
  const loaded = await tenantCatalog(c.get('scope').isolate, tenant.target.key, session);
  try {
    return await attempt(loaded.catalog);
  } catch (err) {
    const miss = err instanceof GatewayError && (err.code === 'unknown_table' || err.code === 'unknown_column');
    if (!miss || !mayRefresh(loaded, Date.now())) throw err;
    return attempt((await tenantCatalog(c.get('scope').isolate, tenant.target.key, session, { refresh: true })).catalog);
  }
}

/** Tenant → one budgeted session → `fn`; every failure leaves as a gateway error. */
export async function withTenant<T>(c: Context<AppEnv>, fn: (session: Session, tenant: Tenant) => Promise<T>): Promise<T> {
  const ctx = c.get('scope');
  const signal = c.req.raw.signal;
  const tenant = resolveTenant(ctx.isolate.settings, authOf(c));
  try {
    return await withSession(ctx, tenant.databaseUrl, 'tenant', (session) => fn(session, tenant), { signal });
  } catch (err) {
    throw tenantError(c, tenant, err);
  }
}

/** Maps what escaped a tenant session to the gateway error the client sees. */
function tenantError(c: Context<AppEnv>, tenant: Tenant, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof SessionUnavailableError) {
    return new GatewayError('database_unavailable', 'Tenant database unavailable', {
      hint: err.kind === 'budget_timeout' ? 'The gateway is at its connection budget for this database; retry shortly.' : 'The database could not be reached; retry shortly.',
    });
  }
  // Binding a value nested thousands deep overflows JSON.stringify's stack: bad input, not the database.
  if (err instanceof RangeError) {
    return new GatewayError('invalid_request', 'A value in the request body is nested too deeply to bind', { hint: 'Flatten the value (json/jsonb and array values).' });
  }
  const code = sqlState(err);
  // The cached catalog promised a table or column the database no longer has.
  if (code === '42P01' || code === '42703') invalidateCatalog(c.get('scope').isolate, tenant.target.key);
  const mapped = mapPgError(err);
  if (mapped.status >= 500) log('warn', 'tenant_query_failed', { requestId: c.get('scope').requestId, target: tenant.target.label, sqlstate: code ?? null, status: mapped.status });
  return mapped;
}
