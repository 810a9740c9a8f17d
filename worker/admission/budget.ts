/**
 * Acquire budget for one connection target: at most `permits` sessions at once, FIFO waiters, each
 * with its own timeout timer. Pure: the clock and timers are injected, no Workers or driver imports.
 *
 * Workers rule (docs/architecture.md "The Workers rule"): a promise resolved from another request may never be observed when the
 * waiter's request has ended. Hence: each waiter owns its timer; a permit handed to a waiter that
 * has not claimed it when its timer fires goes straight back; every permit is a lease that is
 * reclaimed (and counted) after `leaseMs`, so a dropped release cannot leak capacity forever.
 */

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

type WaiterState = 'waiting' | 'granted' | 'claimed' | 'timeout' | 'cancelled';

type Waiter = {
  state: WaiterState;
  enqueuedAt: number;
  permitId: number;
  wake: () => void;
  timer: TimerHandle;
};

/** Creates an empty budget. */
export function createBudget(opts: BudgetOptions): Budget {
  const { permits, leaseMs, now, setTimer, clearTimer } = opts;
  /** Permit id → time granted. Its size is "in use". */
  const leases = new Map<number, number>();
  const waiters: Waiter[] = [];
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

  /** Hands free capacity to the oldest waiters still waiting. */
  const grantWaiting = (): void => {
    while (leases.size < permits && waiters.length > 0) {
      const head = waiters.shift();
      if (!head || head.state !== 'waiting') continue;
      head.state = 'granted';
      head.permitId = lease();
      head.wake();
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

  /** Sweeps; true when that granted `w` a permit. */
  const sweepFor = (w: Waiter): boolean => {
    sweep();
    return w.state === 'granted';
  };

  const removeWaiter = (w: Waiter): void => {
    const i = waiters.indexOf(w);
    if (i >= 0) waiters.splice(i, 1);
  };

  /** Ends a wait without a permit; a permit granted but not yet claimed goes straight back. */
  const abandon = (w: Waiter, state: 'timeout' | 'cancelled'): void => {
    if (w.state === 'waiting') removeWaiter(w);
    else if (w.state === 'granted') giveBack(w.permitId);
    else return;
    w.state = state;
    if (state === 'timeout') stats.timeouts++;
    else stats.cancelled++;
    noteWait(now() - w.enqueuedAt);
    w.wake();
  };

  async function acquire(acq: AcquireOptions = {}): Promise<AcquireResult> {
    sweep();
    const start = now();
    if (acq.signal?.aborted) {
      stats.cancelled++;
      return { ok: false, reason: 'cancelled', waitedMs: 0 };
    }
    if (waiters.length === 0 && leases.size < permits) {
      stats.acquired++;
      return { ok: true, permit: permitFor(lease()), waitedMs: 0 };
    }
    const timeoutMs = acq.timeoutMs ?? opts.timeoutMs;
    if (timeoutMs <= 0) {
      stats.timeouts++;
      return { ok: false, reason: 'timeout', waitedMs: 0 };
    }
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const w: Waiter = { state: 'waiting', enqueuedAt: start, permitId: 0, wake, timer: undefined };
    waiters.push(w);
    w.timer = setTimer(() => {
      if (w.state === 'waiting' && sweepFor(w)) return; // a reclaimed lease served it in time
      abandon(w, 'timeout');
    }, timeoutMs);
    const onAbort = (): void => abandon(w, 'cancelled');
    acq.signal?.addEventListener('abort', onAbort, { once: true });

    await woken;
    clearTimer(w.timer);
    acq.signal?.removeEventListener('abort', onAbort);
    const waitedMs = now() - start;
    if (w.state === 'granted' && leases.has(w.permitId)) {
      w.state = 'claimed';
      stats.acquired++;
      noteWait(waitedMs);
      return { ok: true, permit: permitFor(w.permitId), waitedMs };
    }
    if (w.state === 'granted') {
      // The lease expired between grant and claim: count it as a timeout, never as a permit.
      w.state = 'timeout';
      stats.timeouts++;
      noteWait(waitedMs);
    }
    return { ok: false, reason: w.state === 'cancelled' ? 'cancelled' : 'timeout', waitedMs };
  }

  return {
    acquire,
    snapshot() {
      sweep();
      return { size: permits, inUse: leases.size, waiting: waiters.length, ...stats };
    },
  };
}

export type PermitOutcome<T> = { ok: true; value: T; waitedMs: number } | { ok: false; reason: 'timeout' | 'cancelled'; waitedMs: number };

/** Runs `fn` under a permit, releasing it in `finally` whatever `fn` does. */
export async function withPermit<T>(budget: Budget, opts: AcquireOptions, fn: () => Promise<T>): Promise<PermitOutcome<T>> {
  const acquired = await budget.acquire(opts);
  if (!acquired.ok) return acquired;
  try {
    return { ok: true, value: await fn(), waitedMs: acquired.waitedMs };
  } finally {
    acquired.permit.release();
  }
}
