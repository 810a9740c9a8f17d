/**
 * Catalog changes as they travel to the isolates (docs/auth.md "The revocation bound"): the SQL that
 * reads the change log after an epoch, and the `changes` field of a batch ack. One module for the
 * flusher, the worker's direct sink and the worker's own epoch check, so they cannot drift apart.
 * A change names a key id or a client name, never a key or its hash.
 */
import { z } from 'zod';
import { CHANGE_KINDS } from './change-log.js';
import type { Statement } from './statement.js';
import { parseJsonText } from './json-text.js';

/** Request header of a batch POST: the epoch the isolate has applied (absent: it asks for no changes). */
export const CHANGES_SINCE_HEADER = 'x-athena-changes-since';

/** Most changes one answer lists; an isolate further behind drops all its caches instead (`reset`). */
export const MAX_CHANGES = 500;

const epoch = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const changeSchema = z.strictObject({
  epoch,
  kind: z.enum(CHANGE_KINDS),
  client_name: z.string().max(200).nullable(),
  key_id: z.uuid().nullable(),
});

/** The `changes` field of a batch ack: what the posting isolate has not seen. */
export const changesSchema = z.strictObject({
  /** Every change up to this epoch is listed in `items` (after the isolate's epoch) or covered by `reset`. */
  through: epoch,
  /** How long before the answer the catalog was read: the isolate's knowledge is at least that old. */
  age_ms: z.number().int().nonnegative().max(86_400_000),
  /** The isolate had no epoch or is further behind than the log reaches: drop every cached key and client. */
  reset: z.boolean(),
  items: z.array(changeSchema).max(MAX_CHANGES),
});

export type Change = z.infer<typeof changeSchema>;
export type Changes = z.infer<typeof changesSchema>;
/** A read of the change log: the current epoch and the changes after the epoch asked for. */
export type ChangeRead = { through: number; items: Change[] };

/**
 * One row, one column `feed`: `{ through, items }` — the current epoch and up to MAX_CHANGES + 1
 * changes after `$n` (one more than fits says "too many"). Read in one snapshot, so `through` never
 * runs ahead of `items`. `param` is the placeholder number of the epoch (the direct sink appends it).
 */
export function changesSince(since: number, param = 1): Statement {
  return {
    text: `SELECT json_build_object(
  'through', coalesce((SELECT epoch FROM catalog_epoch WHERE id = 1), 0),
  'items', coalesce((SELECT json_agg(c ORDER BY c.epoch) FROM (SELECT epoch, kind, client_name, key_id FROM catalog_changes WHERE epoch > $${param}::bigint ORDER BY epoch LIMIT ${MAX_CHANGES + 1}) c), '[]'::json)
) AS feed`,
    params: [since],
  };
}

const readSchema = z.object({ through: epoch, items: z.array(changeSchema) });

/** The `feed` column as a read, or undefined when it is not one (never trusted blindly). */
export function parseChangeRead(raw: unknown): ChangeRead | undefined {
  const parsed = readSchema.safeParse(typeof raw === 'string' ? parseJsonText(raw) : raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * What an isolate at epoch `since` (undefined: none yet) is told, from a read of the changes after
 * `readFrom` (≤ since) taken `ageMs` ago. `reset` when the isolate has no epoch, or the read does not
 * reach back to it (pruned, or more than MAX_CHANGES). An isolate ahead of the read (it read the log
 * itself more recently) is told nothing new.
 */
export function changesFor(read: ChangeRead, readFrom: number, since: number | undefined, ageMs: number): Changes {
  const age_ms = Math.max(0, Math.round(ageMs));
  if (since !== undefined && since >= read.through) return { through: read.through, age_ms, reset: false, items: [] };
  if (since === undefined || since < readFrom) return { through: read.through, age_ms, reset: true, items: [] };
  const items = read.items.filter((c) => c.epoch > since);
  const contiguous = items.length === read.through - since && items.every((c, i) => c.epoch === since + 1 + i);
  if (!contiguous || items.length > MAX_CHANGES) return { through: read.through, age_ms, reset: true, items: [] };
  return { through: read.through, age_ms, reset: false, items };
}
