/**
 * The fleet as this flusher sees it (docs/operations.md "Fleet view"): the latest snapshot of each
 * isolate that sent a batch, and the one before it, so rates come from two consecutive snapshots.
 * An isolate silent for `expiryMs` is dropped; at most `maxIsolates` are kept (the longest silent
 * goes first). Pure: takes its clock; memory is bounded by `maxIsolates`.
 */
import type { IsolateSnapshot } from '../drizzle/fleet-snapshot.js';
import { fleetView, type FleetView } from '../drizzle/fleet-view.js';
import type { IsolatePair } from '../drizzle/fleet-window.js';

export type FleetOptions = { expiryMs: number; maxIsolates: number; now: () => number };

export type Fleet = {
  /** Records a snapshot; an older one than the isolate's latest (a late retry) is ignored. */
  observe(snapshot: IsolateSnapshot): void;
  view(): FleetView;
  /** Snapshots recorded since start. */
  readonly observed: number;
};

type Entry = IsolatePair & { seenAt: number };

export function createFleet(opts: FleetOptions): Fleet {
  const entries = new Map<string, Entry>();
  let observed = 0;
  const expire = (t: number) => {
    for (const [id, e] of entries) if (t - e.seenAt >= opts.expiryMs) entries.delete(id);
  };
  return {
    observe(snapshot) {
      const t = opts.now();
      observed++;
      const cur = entries.get(snapshot.isolate_id);
      if (cur && Date.parse(cur.latest.at) >= Date.parse(snapshot.at)) return;
      // Re-inserted so the map's order is by last sight: the first entry is the longest silent.
      entries.delete(snapshot.isolate_id);
      entries.set(snapshot.isolate_id, { latest: snapshot, previous: cur?.latest ?? null, seenAt: t });
      if (entries.size > opts.maxIsolates) expire(t);
      while (entries.size > opts.maxIsolates) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    view() {
      const t = opts.now();
      expire(t);
      return fleetView([...entries.values()], t);
    },
    get observed() {
      return observed;
    },
  };
}
