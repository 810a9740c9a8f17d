/**
 * Acquire budget for one connection target: at most `permits` sessions at once, FIFO waiters (with
 * refreshes of known-good auth entries ahead of everything else), each waiting on its own timers.
 * Pure: the clock and timers are injected, no Workers or driver imports.
 *
 * Workers rule (docs/architecture.md "The Workers rule"): a request must never resume on a promise another request settles. So a release
 * only *reserves* a permit for the oldest waiter (plain state); the waiter finds it on its next
 * re-check, which runs on a timer of its own (poll.ts). A reserved permit whose waiter gave up goes
 * straight back, and every permit is a lease reclaimed (and counted) after `leaseMs`, so a dropped
 * release cannot leak capacity forever.
 */
import { pollFor } from './poll.js';

/** Opaque timer handle of the injected timer adapter. */
export type TimerHandle = unknown;

export type TimerAdapter = {
  setTimer: (fn: () => void, ms: number) => TimerHandle;
  clearTimer: (handle: TimerHandle) => void;
};

export type BudgetOptions = TimerAdapter & {
  /** Concurrent permits (DB_POOL_MAX). */
  permits: number;
  /** Default wait for a permit (DB_ACQUIRE_TIMEOUT_MS); 0 = try-acquire. */
  timeoutMs: number;
  /** A permit held longer than this is reclaimed as leaked (DB_PERMIT_LEASE_MS). */
  leaseMs: number;
  now: () => number;
};

/** A granted permit. `release()` is idempotent and a no-op once the lease was reclaimed. */
export type Permit = { readonly id: number; release(): void };

export type AcquireOptions = {
  /** Overrides the budget's default wait; 0 never queues. */
  timeoutMs?: number;
  /** Aborting removes the waiter (its request was cancelled). */
  signal?: AbortSignal;
  /** `refresh`: re-reading an entry already known good; served before every `normal` waiter. */
  priority?: 'refresh' | 'normal';
};

export type AcquireResult =
  | { ok: true; permit: Permit; waitedMs: number }
  | { ok: false; reason: 'timeout' | 'cancelled'; waitedMs: number };

export type BudgetSnapshot = {
  size: number;
  inUse: number;
  waiting: number;
  /** Permits granted since start. */
  acquired: number;
  /** Waits that ended without a permit (including try-acquire misses). */
  timeouts: number;
  /** Waits abandoned because the request was cancelled. */
  cancelled: number;
  /** Longest wait observed, granted or not. */
  maxWaitMs: number;
  /** Leases reclaimed after DB_PERMIT_LEASE_MS: releases that never came (leaks). */
  reclaimedLeases: number;
};

export type Budget = {
  acquire(opts?: AcquireOptions): Promise<AcquireResult>;
  snapshot(): BudgetSnapshot;
};

type Waiter = { state: 'waiting' | 'granted' | 'done'; permitId: number };

/** Creates an empty budget. */
export function createBudget(opts: BudgetOptions): Budget {
  const { permits, leaseMs, now } = opts;
  /** Permit id → time granted. Its size is "in use" (reserved-but-unclaimed permits included). */
  const leases = new Map<number, number>();
  const queues = { refresh: [] as Waiter[], normal: [] as Waiter[] };
  let nextId = 1;
  const stats = { acquired: 0, timeouts: 0, cancelled: 0, maxWaitMs: 0, reclaimedLeases: 0 };

  const lease = (): number => {
    const id = nextId++;
    leases.set(id, now());
    return id;
  };
  const permitFor = (id: number): Permit => ({ id, release: () => giveBack(id) });
  const noteWait = (ms: number): void => {
    if (ms > stats.maxWaitMs) stats.maxWaitMs = ms;
  };
  const waitingCount = (): number => queues.refresh.length + queues.normal.length;

  /** Reserves free capacity for the oldest waiters (refreshes first). Wakes nobody: they poll. */
  const grantWaiting = (): void => {
    while (leases.size < permits && waitingCount() > 0) {
      const head = queues.refresh.shift() ?? queues.normal.shift();
      if (!head || head.state !== 'waiting') continue;
      head.state = 'granted';
      head.permitId = lease();
    }
  };

  function giveBack(id: number): void {
    if (!leases.delete(id)) return; // second release, or the lease was already reclaimed
    grantWaiting();
  }

  /** Reclaims expired leases (lazily: there are no background timers on Workers). */
  const sweep = (): void => {
    const t = now();
    for (const [id, grantedAt] of leases) {
      if (t - grantedAt >= leaseMs) {
        leases.delete(id);
        stats.reclaimedLeases++;
      }
    }
    grantWaiting();
  };

  /** Ends a wait without a permit; a permit reserved but not yet claimed goes straight back. */
  const abandon = (w: Waiter, queue: Waiter[], reason: 'timeout' | 'cancelled', waitedMs: number): AcquireResult => {
    if (w.state === 'waiting') queue.splice(queue.indexOf(w), 1);
    else if (w.state === 'granted') giveBack(w.permitId);
    w.state = 'done';
    stats[reason === 'timeout' ? 'timeouts' : 'cancelled']++;
    noteWait(waitedMs);
    return { ok: false, reason, waitedMs };
  };

  async function acquire(acq: AcquireOptions = {}): Promise<AcquireResult> {
    sweep();
    const start = now();
    if (acq.signal?.aborted) {
      stats.cancelled++;
      return { ok: false, reason: 'cancelled', waitedMs: 0 };
    }
    if (waitingCount() === 0 && leases.size < permits) {
      stats.acquired++;
      return { ok: true, permit: permitFor(lease()), waitedMs: 0 };
    }
    const timeoutMs = acq.timeoutMs ?? opts.timeoutMs;
    if (timeoutMs <= 0) {
      stats.timeouts++;
      return { ok: false, reason: 'timeout', waitedMs: 0 };
    }
    const w: Waiter = { state: 'waiting', permitId: 0 };
    const queue = acq.priority === 'refresh' ? queues.refresh : queues.normal;
    queue.push(w);
    let cancelled: AcquireResult | undefined;
    // The abort event is the waiter's own request: leave the queue (or hand a reservation on) at once.
    const onAbort = (): void => {
      if (w.state !== 'done') cancelled = abandon(w, queue, 'cancelled', now() - start);
    };
    acq.signal?.addEventListener('abort', onAbort, { once: true });
    // A reservation counts only while its lease lives; at the deadline a reclaimed lease may still serve.
    const claimable = (): boolean => w.state === 'granted' && leases.has(w.permitId);
    const waited = await pollFor(opts, () => (claimable() || w.state === 'done' ? true : undefined), start + timeoutMs, acq.signal);
    acq.signal?.removeEventListener('abort', onAbort);
    if (cancelled) return cancelled;
    if (!waited.ok && waited.reason === 'timeout') sweep();
    const waitedMs = now() - start;
    if (claimable() && (waited.ok || waited.reason === 'timeout')) return claim(w, waitedMs);
    return abandon(w, queue, waited.ok ? 'timeout' : waited.reason, waitedMs);
  }

  const claim = (w: Waiter, waitedMs: number): AcquireResult => {
    w.state = 'done';
    stats.acquired++;
    noteWait(waitedMs);
    return { ok: true, permit: permitFor(w.permitId), waitedMs };
  };

  return {
    acquire,
    snapshot() {
      sweep();
      return { size: permits, inUse: leases.size, waiting: waitingCount(), ...stats };
    },
  };
}
