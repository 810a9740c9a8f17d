/**
 * The catalog's change log: the tables the triggers of migration 0007 write whenever a key, a
 * client or a limit changes (docs/auth.md "The revocation bound"). Part of the catalog schema
 * (re-exported by schema.ts, which drizzle-kit reads).
 */
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** What a change record names: a key, a client (its policy or limit), or everything (TRUNCATE). */
export const CHANGE_KINDS = ['key', 'client', 'all'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * The catalog's change epoch: one row, bumped by the triggers on `api_keys` and `clients` (migration
 * 0007) in the writer's transaction. Its row lock orders writers, so epochs commit in order and a
 * reader that saw epoch n has seen every change up to n (docs/auth.md "The revocation bound").
 */
export const catalogEpoch = pgTable(
  'catalog_epoch',
  {
    id: integer('id').primaryKey(),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('catalog_epoch_single_row', sql`${t.id} = 1`)],
);

/**
 * One row per change an isolate's caches must drop: the key (by id) or the client (by name) whose
 * auth-relevant columns changed, were deleted, or `all` for a TRUNCATE. Never a key or its hash.
 */
export const catalogChanges = pgTable(
  'catalog_changes',
  {
    epoch: bigint('epoch', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<ChangeKind>().notNull(),
    clientName: text('client_name'),
    keyId: uuid('key_id'),
    changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('catalog_changes_kind_check', sql`${t.kind} IN ('key', 'client', 'all')`), index('catalog_changes_changed_at_idx').on(t.changedAt)],
);
