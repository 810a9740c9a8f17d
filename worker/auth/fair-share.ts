/**
 * Fair share of the auth budget: one client may hold at most `cap` lookups (waiting for a permit or
 * running) on a target at once, so no single client — nor anyone sending its name — can take every
 * permit and leave the others' cache misses to time out. A lookup beyond the cap waits for one of
 * its client's own to end (auth-query.ts, on its own timer) and is refused only if none ends within
 * the acquire timeout. Pure: plain counters, no I/O.
 */

import { boundedRows } from './bounded-rows.js';

/** The per-client cap for a budget of `permits`: `floor(permits × share)`, at least 1, and never every permit when there are two or more. */
export function shareCap(permits: number, share: number): number {
  return Math.max(1, Math.min(permits - 1, Math.floor(permits * share)));
}

export type ShareCounters = { inFlight: number; refusedByShare: number };

export type ShareGate = {
  /** Counts one lookup for `owner`; false when it already has `cap` (nothing counted). */
  tryEnter(owner: string): boolean;
  /** Counts one lookup for `owner` whatever its count: refreshes of known-good entries. */
  enter(owner: string): void;
  /** Counts a lookup of `owner` refused because its share stayed full. */
  refused(owner: string): void;
  /** Ends one lookup of `owner`; call exactly once per successful `tryEnter`. */
  leave(owner: string): void;
  /** Counters per owner (owners beyond the bound share the `(other)` row). */
  snapshot(): Record<string, ShareCounters>;
};

export { OTHER_OWNER } from './bounded-rows.js';

export function createShareGate(opts: { cap: number; maxOwners: number }): ShareGate {
  const owners = boundedRows<ShareCounters>(opts.maxOwners, () => ({ inFlight: 0, refusedByShare: 0 }));
  const row = owners.row;
  return {
    tryEnter(owner) {
      const r = row(owner);
      if (r.inFlight >= opts.cap) return false;
      r.inFlight++;
      return true;
    },
    enter(owner) {
      row(owner).inFlight++;
    },
    refused(owner) {
      row(owner).refusedByShare++;
    },
    leave(owner) {
      const r = row(owner);
      if (r.inFlight > 0) r.inFlight--;
    },
    snapshot: owners.snapshot,
  };
}
