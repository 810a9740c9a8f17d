/**
 * The stats batch wire shape: what a worker sends to the flusher (`POST /v1/batches`) and what the
 * direct sink writes itself. One zod schema, imported by both sides, so they cannot drift apart.
 * Counters are deltas (added to the stored totals); timestamps are ISO 8601 instants.
 */
import { z } from 'zod';
import { isolateSnapshotSchema } from './fleet-snapshot.js';
import { changesSchema } from './changes.js';
import { OPERATIONS } from './schema.js';

/** Upper bound on rows per list: a batch is never bigger than STATS_MAX_PENDING_KEYS (≤ 1e6). */
const MAX_ROWS = 1_000_000;
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const instant = z.iso.datetime({ offset: true });
/** Text Postgres can store: no NUL characters (a NUL would fail the whole transaction). */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000]*$/, 'must not contain NUL characters');

export const clientDeltaSchema = z.strictObject({
  client_name: text(63),
  requests: count,
  errors: count,
  /** Requests refused by a rate limit (absent from workers that predate the column = 0). */
  rate_limited: count.optional(),
  last_seen: instant,
});

export const tableDeltaSchema = z.strictObject({
  client_name: text(63),
  table_name: text(255),
  operation: z.enum(OPERATIONS),
  requests: count,
  errors: count,
  duration_ms: count,
  last_seen: instant,
});

export const keyDeltaSchema = z.strictObject({
  key_id: z.uuid(),
  last_used: instant,
});

export const batchSchema = z.strictObject({
  /** Idempotency key: the flusher's `flush_batches` ledger applies each id once. */
  batch_id: z.uuid(),
  /** Who produced it (e.g. `worker:<isolate id>`), for the ledger and logs. */
  source: text(200),
  created_at: instant,
  clients: z.array(clientDeltaSchema).max(MAX_ROWS),
  tables: z.array(tableDeltaSchema).max(MAX_ROWS),
  keys: z.array(keyDeltaSchema).max(MAX_ROWS),
  /**
   * The sending isolate's cumulative counters (drizzle/fleet-snapshot.ts), taken when the batch is
   * sent (a retried batch carries a fresh one). Optional: older workers send none.
   */
  snapshot: isolateSnapshotSchema.optional(),
});

export type ClientDelta = z.infer<typeof clientDeltaSchema>;
export type TableDelta = z.infer<typeof tableDeltaSchema>;
export type KeyDelta = z.infer<typeof keyDeltaSchema>;
export type Batch = z.infer<typeof batchSchema>;

/** Rows a batch carries (its size for bounds, metrics and the ledger). */
export const batchRows = (b: Pick<Batch, 'clients' | 'tables' | 'keys'>): number => b.clients.length + b.tables.length + b.keys.length;

/**
 * What the flusher answers for an accepted batch; `changes` only to a worker that sent its epoch
 * (header `x-athena-changes-since`): the catalog changes it has not seen (drizzle/changes.ts).
 */
export const batchResultSchema = z.strictObject({
  batch_id: z.uuid(),
  status: z.enum(['applied', 'duplicate']),
  changes: changesSchema.optional(),
});
