/**
 * Acquire budget for one connection target: at most `permits` sessions at once, FIFO waiters (with
 * refreshes of known-good auth entries ahead of everything else), each waiting on its own timers.
 * Pure: the clock and timers are injected, no Workers or driver imports.
 *
 * Workers rule (docs/architecture.md "The Workers rule"): a request must never resume on a promise another request settles. So a release
 * only *reserves* a permit for the oldest waiter (plain state); the waiter finds it on its next
 * re-check, which runs on a timer of its own (poll.ts). A reserved permit whose waiter gave up goes
 * straight back, and every permit is a lease, so a dropped release cannot leak capacity forever.
 * A lease past `leaseMs` is reclaimed (counted, and shown as `reclaiming`) but stays busy for
 * `reclaimGraceMs` more: its holder ends and cancels its session on its own timer and then releases
 * it; a holder that never does (its request is gone) had its connection dropped with it, and the
 * grace covers the server-side timeouts that end its backend. No permit is free while its backend runs.
 */
import type { TimerAdapter } from './clock.js';
import { pollFor } from './poll.js';

export type BudgetOptions = TimerAdapter & {
  /** Concurrent permits (DB_POOL_MAX). */
  permits: number;
  /** Default wait for a permit (DB_ACQUIRE_TIMEOUT_MS); 0 = try-acquire. */
  timeoutMs: number;
  /** A permit held longer than this is reclaimed as leaked (DB_PERMIT_LEASE_MS). */
  leaseMs: number;
  /** A reclaimed lease still counts as in use this much longer, unless released first (default 0). */
  reclaimGraceMs?: number;
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

export type AcquireResult = { ok: true; permit: Permit; waitedMs: number } | { ok: false; reason: 'timeout' | 'cancelled'; waitedMs: number };

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
  /** Leases reclaimed after DB_PERMIT_LEASE_MS: releases that had not come by then. */
  reclaimedLeases: number;
  /** Of `inUse`: reclaimed leases still busy while their sessions end (within the reclaim grace). */
  reclaiming: number;
};

export type Budget = {
  acquire(opts?: AcquireOptions): Promise<AcquireResult>;
  snapshot(): BudgetSnapshot;
};

type Waiter = { state: 'waiting' | 'granted' | 'done'; permitId: number };

type Counters = Pick<BudgetSnapshot, 'acquired' | 'timeouts' | 'cancelled' | 'maxWaitMs' | 'reclaimedLeases'>;

/** The budget's plain state, shared by the steps below; it outlives every request of the isolate. */
type State = {
  opts: BudgetOptions;
  /** Permit id → time granted. Its size is "in use" (reserved-but-unclaimed permits included). */
  leases: Map<number, number>;
  /** Ids of `leases` past `leaseMs`, busy until released or past the grace. */
  reclaiming: Set<number>;
  queues: { refresh: Waiter[]; normal: Waiter[] };
  nextId: number;
  counters: Counters;
};

/** Creates an empty budget. */
export function createBudget(opts: BudgetOptions): Budget {
  const s: State = {
    opts,
    leases: new Map(),
    reclaiming: new Set(),
    queues: { refresh: [], normal: [] },
    nextId: 1,
    counters: { acquired: 0, timeouts: 0, cancelled: 0, maxWaitMs: 0, reclaimedLeases: 0 },
  };
  return {
    acquire: (acq = {}) => acquire(s, acq),
    snapshot() {
      sweep(s);
      return { size: opts.permits, inUse: s.leases.size, waiting: waitingCount(s), reclaiming: s.reclaiming.size, ...s.counters };
    },
  };
}

async function acquire(s: State, acq: AcquireOptions): Promise<AcquireResult> {
  sweep(s);
  if (acq.signal?.aborted) {
    s.counters.cancelled++;
    return { ok: false, reason: 'cancelled', waitedMs: 0 };
  }
  if (waitingCount(s) === 0 && s.leases.size < s.opts.permits) {
    s.counters.acquired++;
    return { ok: true, permit: permitFor(s, lease(s)), waitedMs: 0 };
  }
  const timeoutMs = acq.timeoutMs ?? s.opts.timeoutMs;
  if (timeoutMs <= 0) {
    s.counters.timeouts++;
    return { ok: false, reason: 'timeout', waitedMs: 0 };
  }
  return wait(s, acq, timeoutMs);
}

/** Queues a waiter and re-checks on its own timers until it holds a reservation, gives up or is cancelled. */
async function wait(s: State, acq: AcquireOptions, timeoutMs: number): Promise<AcquireResult> {
  const { now } = s.opts;
  const start = now();
  const w: Waiter = { state: 'waiting', permitId: 0 };
  const queue = acq.priority === 'refresh' ? s.queues.refresh : s.queues.normal;
  queue.push(w);
  let cancelled: AcquireResult | undefined;
  // The abort event is the waiter's own request: leave the queue (or hand a reservation on) at once.
  const onAbort = (): void => {
    if (w.state !== 'done') cancelled = abandon(s, w, queue, 'cancelled', now() - start);
  };
  acq.signal?.addEventListener('abort', onAbort, { once: true });
  // A reservation counts only while its lease lives; at the deadline a reclaimed lease may still serve.
  const claimable = (): boolean => w.state === 'granted' && s.leases.has(w.permitId);
  const waited = await pollFor(s.opts, () => (claimable() || w.state === 'done' ? true : undefined), start + timeoutMs, acq.signal);
  acq.signal?.removeEventListener('abort', onAbort);
  if (cancelled) return cancelled;
  if (!waited.ok && waited.reason === 'timeout') sweep(s);
  const waitedMs = now() - start;
  if (claimable() && (waited.ok || waited.reason === 'timeout')) return claim(s, w, waitedMs);
  return abandon(s, w, queue, waited.ok ? 'timeout' : waited.reason, waitedMs);
}

function lease(s: State): number {
  const id = s.nextId++;
  s.leases.set(id, s.opts.now());
  return id;
}

function permitFor(s: State, id: number): Permit {
  return { id, release: () => giveBack(s, id) };
}

function noteWait(s: State, ms: number): void {
  if (ms > s.counters.maxWaitMs) s.counters.maxWaitMs = ms;
}

function waitingCount(s: State): number {
  return s.queues.refresh.length + s.queues.normal.length;
}

/** Reserves free capacity for the oldest waiters (refreshes first). Wakes nobody: they poll. */
function grantWaiting(s: State): void {
  while (s.leases.size < s.opts.permits && waitingCount(s) > 0) {
    const head = s.queues.refresh.shift() ?? s.queues.normal.shift();
    if (head?.state !== 'waiting') continue;
    head.state = 'granted';
    head.permitId = lease(s);
  }
}

function giveBack(s: State, id: number): void {
  const grantedAt = s.leases.get(id);
  if (grantedAt === undefined) return; // second release, or the lease was already reclaimed
  // A release that comes only after the lease (its holder's own timer) is a reclaim too.
  if (!s.reclaiming.delete(id) && s.opts.now() - grantedAt >= s.opts.leaseMs) s.counters.reclaimedLeases++;
  s.leases.delete(id);
  grantWaiting(s);
}

/** Reclaims expired leases, freeing them after the grace (lazily: there are no background timers on Workers). */
function sweep(s: State): void {
  const t = s.opts.now();
  const grace = s.opts.reclaimGraceMs ?? 0;
  for (const [id, grantedAt] of s.leases) {
    if (t - grantedAt < s.opts.leaseMs) continue;
    if (!s.reclaiming.has(id)) {
      s.reclaiming.add(id);
      s.counters.reclaimedLeases++;
    }
    if (t - grantedAt >= s.opts.leaseMs + grace) {
      s.leases.delete(id);
      s.reclaiming.delete(id);
    }
  }
  grantWaiting(s);
}

/** Ends a wait without a permit; a permit reserved but not yet claimed goes straight back. */
function abandon(s: State, w: Waiter, queue: Waiter[], reason: 'timeout' | 'cancelled', waitedMs: number): AcquireResult {
  if (w.state === 'waiting') queue.splice(queue.indexOf(w), 1);
  else if (w.state === 'granted') giveBack(s, w.permitId);
  w.state = 'done';
  s.counters[reason === 'timeout' ? 'timeouts' : 'cancelled']++;
  noteWait(s, waitedMs);
  return { ok: false, reason, waitedMs };
}

function claim(s: State, w: Waiter, waitedMs: number): AcquireResult {
  w.state = 'done';
  s.counters.acquired++;
  noteWait(s, waitedMs);
  return { ok: true, permit: permitFor(s, w.permitId), waitedMs };
}
