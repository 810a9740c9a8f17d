/**
 * Open lookup batches, at most one per group (the client the lookups are for). A batch is open
 * from its leader's miss until the leader seals it — when its session is ready — or until it is
 * older than `maxAgeMs` (its leader is presumed lost, so nobody joins it any more). Pure.
 */

type BatchMember<F> = { key: string; flight: F };

type Batch<F> = { group: string; openedAt: number; members: BatchMember<F>[]; sealed: boolean };

export type Batches<F> = {
  /** The open batch of `group` with room for one more key, if any. */
  joinable(group: string, now: number): Batch<F> | undefined;
  /** Opens a new batch for `group` led by `first` (replacing a full or stale one). */
  open(group: string, first: BatchMember<F>, now: number): Batch<F>;
  /** Seals `batch` (idempotent): nobody joins it any more. Returns its members. */
  seal(batch: Batch<F>): BatchMember<F>[];
};

export function createBatches<F>(opts: { maxSize: number; maxAgeMs: number }): Batches<F> {
  const open = new Map<string, Batch<F>>();
  return {
    joinable(group, now) {
      const b = open.get(group);
      if (!b || b.sealed || b.members.length >= opts.maxSize) return undefined;
      return now - b.openedAt < opts.maxAgeMs ? b : undefined;
    },
    open(group, first, now) {
      const b: Batch<F> = { group, openedAt: now, members: [first], sealed: false };
      open.set(group, b);
      return b;
    },
    seal(batch) {
      batch.sealed = true;
      if (open.get(batch.group) === batch) open.delete(batch.group);
      return batch.members;
    },
  };
}
