/**
 * The gateway's catalog schema: the single source for the worker, the flusher, the CLI and the
 * migrations (drizzle-kit reads this file). SQL names are snake_case, TS keys camelCase.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgSchema, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const counter = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);

/** Longest rate-limit period: a limiter's window never outlives its idle Durable Object. */
export const RATE_LIMIT_MAX_PERIOD_S = 60;

/**
 * A rate limit: `rate_limit_requests` per `rate_limit_period_s` seconds (0 requests = blocked);
 * both null = none. Kept as two columns so the catalog itself refuses half a limit.
 */
const rateLimitColumns = () => ({
  rateLimitRequests: integer('rate_limit_requests'),
  rateLimitPeriodS: integer('rate_limit_period_s'),
});
const rateLimitCheck = (table: string, t: { rateLimitRequests: unknown; rateLimitPeriodS: unknown }) =>
  check(
    `${table}_rate_limit_check`,
    sql`(${t.rateLimitRequests} IS NULL AND ${t.rateLimitPeriodS} IS NULL) OR (${t.rateLimitRequests} >= 0 AND ${t.rateLimitPeriodS} BETWEEN 1 AND ${sql.raw(String(RATE_LIMIT_MAX_PERIOD_S))})`,
  );

/**
 * Operations a key may be scoped to, and the operation dimension of table statistics (`rpc`
 * counts calls per function).
 */
export const OPERATIONS = ['read', 'insert', 'update', 'delete', 'rpc'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * What a key may do: operations and tables (`"*"` = every table the tenant exposes); `rpc` calls
 * only the functions listed (`fn`, `schema.fn`, `schema.*`, `"*"`); absent = none.
 */
export type KeyScopes = { operations: Operation[]; tables: string[]; functions?: string[] };

export const clients = pgTable(
  'clients',
  {
    clientName: text('client_name').primaryKey(),
    databaseUrl: text('database_url'),
    isActive: boolean('is_active').notNull().default(true),
    isFrozen: boolean('is_frozen').notNull().default(false),
    /** null = the gateway default (`API_KEY_ENFORCEMENT_DEFAULT`). */
    apiKeyEnforcement: text('api_key_enforcement'),
    /** Default limit of the client's keys that have none of their own (one shared window). */
    ...rateLimitColumns(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('clients_api_key_enforcement_check', sql`${t.apiKeyEnforcement} IS NULL OR ${t.apiKeyEnforcement} IN ('required', 'optional')`),
    check('clients_client_name_check', sql`${t.clientName} ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'`),
    rateLimitCheck('clients', t),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clientName: text('client_name')
      .notNull()
      .references(() => clients.clientName, { onDelete: 'cascade', onUpdate: 'cascade' }),
    name: text('name').notNull(),
    /** The visible part of the key (e.g. `ath_k3x9…`), for humans and logs. */
    prefix: text('prefix').notNull().unique('api_keys_prefix_unique'),
    /** Lower-case hex SHA-256 of the whole key; the plaintext is never stored. */
    keyHash: text('key_hash').notNull().unique('api_keys_key_hash_unique'),
    scopes: jsonb('scopes').$type<KeyScopes>().notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at'),
    revokedAt: timestamptz('revoked_at'),
    lastUsedAt: timestamptz('last_used_at'),
    /** The key's own limit; wins over its client's default. */
    ...rateLimitColumns(),
  },
  (t) => [
    index('api_keys_client_name_idx').on(t.clientName),
    check('api_keys_key_hash_check', sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
    rateLimitCheck('api_keys', t),
  ],
);

export const clientStatistics = pgTable('client_statistics', {
  clientName: text('client_name').primaryKey(),
  requests: counter('requests'),
  errors: counter('errors'),
  /** Requests answered 429 by a rate limit (also counted in requests and errors). */
  rateLimited: counter('rate_limited'),
  lastSeen: timestamptz('last_seen'),
});

export const clientTableStatistics = pgTable(
  'client_table_statistics',
  {
    clientName: text('client_name').notNull(),
    tableName: text('table_name').notNull(),
    operation: text('operation').$type<Operation>().notNull(),
    requests: counter('requests'),
    errors: counter('errors'),
    durationMs: counter('duration_ms'),
    lastSeen: timestamptz('last_seen'),
  },
  (t) => [
    primaryKey({ name: 'client_table_statistics_pk', columns: [t.clientName, t.tableName, t.operation] }),
    check('client_table_statistics_operation_check', sql`${t.operation} IN ('read', 'insert', 'update', 'delete', 'rpc')`),
  ],
);

export const gatewayRequestLog = pgTable(
  'gateway_request_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: text('request_id').notNull(),
    clientName: text('client_name'),
    keyPrefix: text('key_prefix'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    tableName: text('table_name'),
    operation: text('operation'),
    status: integer('status').notNull(),
    errorCode: text('error_code'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('gateway_request_log_created_at_idx').on(t.createdAt)],
);

export const authAttemptLog = pgTable(
  'auth_attempt_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: text('request_id').notNull(),
    clientName: text('client_name'),
    keyPrefix: text('key_prefix'),
    reason: text('reason').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('auth_attempt_log_created_at_idx').on(t.createdAt)],
);

export const admissionEvents = pgTable(
  'admission_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: text('request_id'),
    /** Redacted target: host:port/database, never credentials. */
    target: text('target').notNull(),
    purpose: text('purpose').notNull(),
    waitedMs: integer('waited_ms').notNull(),
    inUse: integer('in_use').notNull(),
    waiting: integer('waiting').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('admission_events_created_at_idx').on(t.createdAt)],
);

export const flushBatches = pgTable(
  'flush_batches',
  {
    batchId: uuid('batch_id').primaryKey(),
    source: text('source').notNull(),
    rows: integer('rows').notNull().default(0),
    appliedAt: timestamptz('applied_at').notNull().defaultNow(),
  },
  (t) => [index('flush_batches_applied_at_idx').on(t.appliedAt)],
);

/**
 * `/gateway/transaction` idempotency: one record per client, API key and idempotency key (another
 * key's identical body has its own). `response` (the exact response text) and `tenant_xid` are
 * written in one step before the tenant COMMIT, so a record with a response is as final as
 * `pg_xact_status(tenant_xid)` on the tenant says; `response` null = still running or abandoned
 * (docs/protocol-sql-rpc-transactions.md "Idempotency per key").
 */
export const transactionIdempotency = pgTable(
  'transaction_idempotency',
  {
    clientName: text('client_name').notNull(),
    /** `api_keys.id` of the key that ran it; '' for a request admitted without a key. */
    keyId: text('key_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** SHA-256 hex of the operations and options: a repeat must send the same body. */
    requestHash: text('request_hash').notNull(),
    /** Random per run: only the run that reserved the record may store or release it. */
    attempt: uuid('attempt').notNull(),
    status: integer('status'),
    /** The response body exactly as first sent (text, so a replay is byte-identical). */
    response: text('response'),
    /** The tenant transaction id (`pg_current_xact_id()`); null when the transaction wrote nothing. */
    tenantXid: text('tenant_xid'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'transaction_idempotency_pk', columns: [t.clientName, t.keyId, t.idempotencyKey] }),
    index('transaction_idempotency_created_at_idx').on(t.createdAt),
  ],
);
/**
 * The fleet view of the `direct` sink (docs/operations.md "Fleet view"): each isolate's latest
 * snapshot (drizzle/fleet-snapshot.ts), upserted in its flush's transaction, beside the one before
 * it so a reader computes rates from one row. Rows silent past the expiry are pruned.
 */
export const isolateSnapshots = pgTable(
  'isolate_snapshots',
  {
    isolateId: text('isolate_id').primaryKey(),
    snapshot: jsonb('snapshot').notNull(),
    previous: jsonb('previous'),
    /** The snapshot's own `at`: a late retry never replaces a newer snapshot. */
    takenAt: timestamptz('taken_at').notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [index('isolate_snapshots_updated_at_idx').on(t.updatedAt)],
);
/** The change log (`catalog_epoch`, `catalog_changes`): drizzle/change-log.ts. */
export * from './change-log.js';

/** The schema only the gateway's migrations create: everything in it belongs to the gateway. */
export const gatewaySchema = pgSchema('athena_gateway');

/**
 * Marks a database as the gateway's own catalog. The worker finds this table in the tenant catalog
 * it loads and then never serves the gateway's tables there, whatever URL spelling reached it.
 */
export const catalogMarker = gatewaySchema.table('catalog_marker', {
  id: integer('id').primaryKey(),
});

export type ClientRow = typeof clients.$inferSelect;
