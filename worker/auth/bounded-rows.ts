/** Counter rows by name with a bound on distinct names, for per-client figures that must not grow without limit. Pure. */

/** Names beyond the bound are counted together under this name. */
export const OTHER_OWNER = '(other)';

export type BoundedRows<R extends object> = {
  /** The row of `name` (created on first use; `(other)` once `max` names have rows). */
  row(name: string): R;
  /** A copy of every row. */
  snapshot(): Record<string, R>;
};

export function boundedRows<R extends object>(max: number, make: () => R): BoundedRows<R> {
  const rows = new Map<string, R>();
  return {
    row(name) {
      const key = rows.has(name) || rows.size < max ? name : OTHER_OWNER;
      let r = rows.get(key);
      if (!r) {
        r = make();
        rows.set(key, r);
      }
      return r;
    },
    snapshot() {
      return Object.fromEntries([...rows].map(([k, v]) => [k, { ...v }]));
    },
  };
}
