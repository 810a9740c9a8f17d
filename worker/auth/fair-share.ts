/**
 * Fair share of the auth budget: one client may have at most `cap` lookups outstanding (waiting for
 * a permit or running) on a target, so no single client — nor anyone sending its name — can take
 * every permit and leave the others' cache misses to time out. Pure: plain counters, no I/O.
 */

/** The per-client cap for a budget of `permits`: `floor(permits × share)`, at least 1, and never every permit when there are two or more. */
export function shareCap(permits: number, share: number): number {
  return Math.max(1, Math.min(permits - 1, Math.floor(permits * share)));
}

export type ShareCounters = { inFlight: number; refusedByShare: number };

export type ShareGate = {
  /** Counts one lookup for `owner`; false (and counted as refused) when it already has `cap`. */
  tryEnter(owner: string): boolean;
  /** Ends one lookup of `owner`; call exactly once per successful `tryEnter`. */
  leave(owner: string): void;
  /** Counters per owner (owners beyond the bound share the `(other)` row). */
  snapshot(): Record<string, ShareCounters>;
};

/** Owners beyond `maxOwners` distinct names are counted together under this name. */
export const OTHER_OWNER = '(other)';

export function createShareGate(opts: { cap: number; maxOwners: number }): ShareGate {
  const owners = new Map<string, ShareCounters>();
  const row = (owner: string): ShareCounters => {
    let r = owners.get(owner);
    if (!r && owners.size >= opts.maxOwners) owner = OTHER_OWNER;
    r = owners.get(owner);
    if (!r) {
      r = { inFlight: 0, refusedByShare: 0 };
      owners.set(owner, r);
    }
    return r;
  };
  return {
    tryEnter(owner) {
      const r = row(owner);
      if (r.inFlight >= opts.cap) {
        r.refusedByShare++;
        return false;
      }
      r.inFlight++;
      return true;
    },
    leave(owner) {
      const r = row(owner);
      if (r.inFlight > 0) r.inFlight--;
    },
    snapshot() {
      return Object.fromEntries([...owners].map(([k, v]) => [k, { ...v }]));
    },
  };
}
