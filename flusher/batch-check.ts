/**
 * A hand-written accept check for the batch wire shape, run before zod: a batch carries hundreds of
 * rows and zod's object machinery costs about as much per batch as everything else the flusher does
 * (parse, verify, merge). It only ever ACCEPTS: whatever it cannot prove valid goes to
 * `batchSchema`, which decides and words the refusal, so every 400 stays exactly zod's. It must
 * therefore be at least as strict as the schema; test/unit/flusher-batch-check.test.ts holds the
 * two side by side on valid batches and on every kind of defect.
 */
import { batchSchema, keyDeltaSchema, type Batch } from '../drizzle/batch.js';
import { isolateSnapshotSchema } from '../drizzle/fleet-snapshot.js';
import { OPERATIONS } from '../drizzle/schema.js';

// The bounds of drizzle/batch.ts; the agreement test probes each text bound on both sides of it.
const MAX_ROWS = 1_000_000;
const NAME_MAX = 63;
const TABLE_MAX = 255;
const SOURCE_MAX = 200;

type Row = Record<string, unknown>;

const operations: ReadonlySet<unknown> = new Set(OPERATIONS);
const CLIENT_KEYS = new Set(['client_name', 'requests', 'errors', 'rate_limited', 'last_seen']);
const TABLE_KEYS = new Set(['client_name', 'table_name', 'operation', 'requests', 'errors', 'duration_ms', 'last_seen']);
const KEY_KEYS = new Set(['key_id', 'last_used']);
const BATCH_KEYS = new Set(['batch_id', 'source', 'created_at', 'clients', 'tables', 'keys', 'snapshot']);

const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): boolean => typeof v === 'string' && v.length >= 1 && v.length <= max && !v.includes('\u0000');

/** No key outside `allowed` (strict objects); required keys are proven present by their value checks. */
function onlyKeys(r: Row, allowed: ReadonlySet<string>): boolean {
  for (const k in r) if (!allowed.has(k)) return false;
  return true;
}

/**
 * Format checks of strings that repeat within a batch (a flush window shares one instant, a batch
 * names few clients and tables) run once per distinct value, through the schema's own leaf.
 */
class Seen {
  private readonly ok = new Set<string>();
  constructor(private readonly check: (s: string) => boolean) {}
  has(v: unknown): boolean {
    if (typeof v !== 'string') return false;
    if (this.ok.has(v)) return true;
    if (!this.check(v)) return false;
    this.ok.add(v);
    return true;
  }
}

const instantLeaf = batchSchema.shape.created_at;
const uuidLeaf = keyDeltaSchema.shape.key_id;

function rowsOk(list: unknown, each: (r: Row) => boolean): boolean {
  if (!Array.isArray(list) || list.length > MAX_ROWS) return false;
  for (const r of list) if (!isRow(r) || !each(r)) return false;
  return true;
}

/** The batch, when it is certainly valid; `undefined` means "ask `batchSchema`". */
export function acceptBatch(json: unknown): Batch | undefined {
  if (!isRow(json) || !onlyKeys(json, BATCH_KEYS)) return undefined;
  const instants = new Seen((s) => instantLeaf.safeParse(s).success);
  const uuids = new Seen((s) => uuidLeaf.safeParse(s).success);
  const names = new Seen((s) => isText(s, NAME_MAX));
  const tables = new Seen((s) => isText(s, TABLE_MAX));
  const ok =
    uuids.has(json.batch_id) &&
    isText(json.source, SOURCE_MAX) &&
    instants.has(json.created_at) &&
    rowsOk(
      json.clients,
      (r) =>
        onlyKeys(r, CLIENT_KEYS) &&
        names.has(r.client_name) &&
        isCount(r.requests) &&
        isCount(r.errors) &&
        (!('rate_limited' in r) || isCount(r.rate_limited)) &&
        instants.has(r.last_seen),
    ) &&
    rowsOk(
      json.tables,
      (r) =>
        onlyKeys(r, TABLE_KEYS) &&
        names.has(r.client_name) &&
        tables.has(r.table_name) &&
        operations.has(r.operation) &&
        isCount(r.requests) &&
        isCount(r.errors) &&
        isCount(r.duration_ms) &&
        instants.has(r.last_seen),
    ) &&
    rowsOk(json.keys, (r) => onlyKeys(r, KEY_KEYS) && uuids.has(r.key_id) && instants.has(r.last_used)) &&
    // The snapshot is one small object: its own schema checks it (the rows above are the cost).
    (json.snapshot === undefined || isolateSnapshotSchema.safeParse(json.snapshot).success);
  return ok ? (json as Batch) : undefined;
}

/** The batch, or the first schema issue as `path: message` (the 400's detail). */
export function decodeBatch(json: unknown): { ok: true; batch: Batch } | { ok: false; detail: string | undefined } {
  const fast = acceptBatch(json);
  if (fast) return { ok: true, batch: fast };
  const parsed = batchSchema.safeParse(json);
  if (parsed.success) return { ok: true, batch: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, detail: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : undefined };
}
