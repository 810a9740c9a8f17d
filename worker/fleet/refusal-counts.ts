/**
 * The requests this isolate refused (status ≥ 400), by error code (the envelope's `code`) and by
 * status: counted by the refusals middleware, read by `/__gateway/status` and the fleet snapshot.
 */
export type RefusalSnapshot = { total: number; byCode: Record<string, number>; byStatus: Record<string, number> };

/** The isolate's refusal counters (one of its services). */
export const createRefusalCounts = (): RefusalSnapshot => ({ total: 0, byCode: {}, byStatus: {} });

/** A copy of the refusal counters. */
export function refusalSnapshot(r: RefusalSnapshot): RefusalSnapshot {
  return { total: r.total, byCode: { ...r.byCode }, byStatus: { ...r.byStatus } };
}
