/** Response shaping for the data routes: `strip_nulls` and the `{data, count}` envelope. Pure. */

export type Row = Record<string, unknown>;
export type DataEnvelope = { data: Row[]; count: number | null };

/** Body `strip_nulls` wins, then `X-Strip-Nulls`, default true (docs/protocol.md "Responses"). */
export function resolveStripNulls(bodyValue: boolean | undefined, header: string | undefined): boolean {
  if (bodyValue !== undefined) return bodyValue;
  const h = header?.trim().toLowerCase();
  if (h === 'false' || h === '0' || h === 'no') return false;
  return true;
}

/**
 * Removes null-valued keys from each row (top level only, as the protocol says). A row with no
 * null is passed on as it is: most rows of most tables have none, and rebuilding each one was the
 * route's largest allocation per row.
 */
export function stripNulls(rows: readonly Row[]): Row[] {
  return rows.map((row) => (hasNull(row) ? withoutNulls(row) : row));
}

function hasNull(row: Row): boolean {
  for (const k in row) if (row[k] === null || row[k] === undefined) return true;
  return false;
}

function withoutNulls(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** The response body. `rows` is the driver's own array (or the route's): sent as it is, not copied. */
export function envelope(rows: Row[], count: number | null, strip: boolean): DataEnvelope {
  return { data: strip ? stripNulls(rows) : rows, count };
}

/** `count(*)` arrives as a bigint string; counts of one table fit a JS number. */
export function toCount(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}
