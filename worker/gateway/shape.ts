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

/** Removes null-valued keys from each row (top level only, as the protocol says). */
export function stripNulls(rows: readonly Row[]): Row[] {
  return rows.map((row) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) if (v !== null && v !== undefined) out[k] = v;
    return out;
  });
}

export function envelope(rows: readonly Row[], count: number | null, strip: boolean): DataEnvelope {
  return { data: strip ? stripNulls(rows) : [...rows], count };
}

/** `count(*)` arrives as a bigint string; counts of one table fit a JS number. */
export function toCount(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}
