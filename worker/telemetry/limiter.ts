/**
 * The telemetry limiter (docs/architecture.md "Telemetry is best effort"): a fixed number of permits per isolate for best-effort
 * background writes. Acquisition never waits — at saturation the caller drops its task — so
 * telemetry can never queue up behind a slow database and starve the auth path of connections.
 *
 * Pure: takes its clock, imports neither hono nor the driver. Drops are counted per event kind and
 * per reason; the warning decision is rate-limited so a flood of drops yields one summary line
 * per interval, never a line per dropped task.
 */

/** What a telemetry task can carry; mirrors `TelemetryEvent['kind']`. */
export const TELEMETRY_KINDS = ['request', 'auth_attempt', 'admission'] as const;
export type TelemetryKindName = (typeof TELEMETRY_KINDS)[number];

/** Why events were dropped: no permit, no logging-DB session in time, or the write itself failed. */
export const DROP_REASONS = ['saturated', 'unavailable', 'failed'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type KindCounts = Record<TelemetryKindName, number>;
export type ReasonCounts = Record<DropReason, number>;

export type LimiterOptions = {
  /** Permits: at most this many telemetry tasks in flight (`settings.logTaskLimit`). */
  limit: number;
  /** Minimum time between two drop warnings. */
  warnIntervalMs: number;
  /** A permit older than this is presumed lost (its task was killed) and reclaimed. */
  leaseMs: number;
  now: () => number;
};

/** Proof of an accepted task; releasing twice is harmless. */
export type LimiterPermit = { readonly id: number };

/** A summary of the drops since the previous warning, when one is due. */
export type DropWarning = {
  dropped: KindCounts;
  byReason: ReasonCounts;
  /** Milliseconds covered by this summary (since the previous warning or the first drop). */
  windowMs: number;
};

export type LimiterSnapshot = {
  limit: number;
  inFlight: number;
  /** High-water mark of in-flight tasks since the isolate started. */
  maxInFlight: number;
  /** Tasks that got a permit. */
  accepted: number;
  /** Events written (a task may carry several). */
  written: KindCounts;
  /** Events dropped, per kind, for any reason. */
  dropped: KindCounts;
  droppedByReason: ReasonCounts;
  /** Permits reclaimed after `leaseMs` because their task never released them. */
  leaked: number;
  warningsEmitted: number;
  lastWarningAt: number | null;
};

export type Limiter = {
  /** A permit, or undefined when `limit` tasks are already in flight. Never waits. */
  tryAcquire(): LimiterPermit | undefined;
  release(permit: LimiterPermit): void;
  /** Counts events written by an accepted task. */
  recordWritten(kinds: readonly TelemetryKindName[]): void;
  /** Counts dropped events (one entry per event). */
  recordDropped(kinds: readonly TelemetryKindName[], reason: DropReason): void;
  /**
   * The warning to log now, if drops happened since the last one and the interval has passed;
   * taking it resets the window. Undefined otherwise: callers just ask after every drop.
   */
  takeWarning(): DropWarning | undefined;
  snapshot(): LimiterSnapshot;
};

const zeroKinds = (): KindCounts => ({ request: 0, auth_attempt: 0, admission: 0 });
const zeroReasons = (): ReasonCounts => ({ saturated: 0, unavailable: 0, failed: 0 });

/** The isolate's telemetry: its limiter and the last write failure. */
export type TelemetryState = {
  limiter: Limiter;
  /** Class of the last failed write (error name / SQLSTATE), for the drop warning and status. */
  lastFailure: string | null;
};

/** Creates a limiter; `limit` below 1 is treated as 1 so telemetry is throttled, not disabled. */
export function createLimiter(opts: LimiterOptions): Limiter {
  const limit = Math.max(1, Math.floor(opts.limit));
  const permits = createPermits(limit, opts);
  const events = createEventCounts(opts);
  return {
    tryAcquire: permits.tryAcquire,
    release: permits.release,
    recordWritten: events.recordWritten,
    recordDropped: events.recordDropped,
    takeWarning: events.takeWarning,
    snapshot() {
      const p = permits.snapshot();
      const e = events.snapshot();
      // Field order as the status endpoint has always shown it.
      return {
        limit,
        inFlight: p.inFlight,
        maxInFlight: p.maxInFlight,
        accepted: p.accepted,
        written: e.written,
        dropped: e.dropped,
        droppedByReason: e.droppedByReason,
        leaked: p.leaked,
        warningsEmitted: e.warningsEmitted,
        lastWarningAt: e.lastWarningAt,
      };
    },
  };
}

type PermitCounts = Pick<LimiterSnapshot, 'inFlight' | 'maxInFlight' | 'accepted' | 'leaked'>;

/** The permits: at most `limit` held, a permit older than `leaseMs` reclaimed as leaked. */
function createPermits(limit: number, opts: LimiterOptions) {
  const held = new Map<number, number>(); // permit id → acquired at
  let nextId = 1;
  const counts = { maxInFlight: 0, accepted: 0, leaked: 0 };

  function reclaimExpired(now: number): void {
    for (const [id, at] of held) {
      if (now - at >= opts.leaseMs) {
        held.delete(id);
        counts.leaked++;
      }
    }
  }

  return {
    tryAcquire(): LimiterPermit | undefined {
      const now = opts.now();
      if (held.size >= limit) reclaimExpired(now);
      if (held.size >= limit) return undefined;
      const id = nextId++;
      held.set(id, now);
      counts.accepted++;
      counts.maxInFlight = Math.max(counts.maxInFlight, held.size);
      return { id };
    },
    release(permit: LimiterPermit): void {
      held.delete(permit.id);
    },
    snapshot: (): PermitCounts => ({ inFlight: held.size, ...counts }),
  };
}

type EventCounts = Pick<LimiterSnapshot, 'written' | 'dropped' | 'droppedByReason' | 'warningsEmitted' | 'lastWarningAt'>;

/** Events written and dropped, and the rate-limited warning that summarises recent drops. */
function createEventCounts(opts: LimiterOptions) {
  const written = zeroKinds();
  const dropped = zeroKinds();
  const droppedByReason = zeroReasons();
  // Drops not yet reported in a warning, and when that window opened.
  let pending = { dropped: zeroKinds(), byReason: zeroReasons(), count: 0, since: 0 };
  let warningsEmitted = 0;
  let lastWarningAt: number | null = null;

  return {
    recordWritten(kinds: readonly TelemetryKindName[]): void {
      for (const k of kinds) written[k]++;
    },
    recordDropped(kinds: readonly TelemetryKindName[], reason: DropReason): void {
      if (kinds.length === 0) return;
      if (pending.count === 0) pending.since = opts.now();
      for (const k of kinds) {
        dropped[k]++;
        pending.dropped[k]++;
      }
      droppedByReason[reason] += kinds.length;
      pending.byReason[reason] += kinds.length;
      pending.count += kinds.length;
    },
    takeWarning(): DropWarning | undefined {
      if (pending.count === 0) return undefined;
      const now = opts.now();
      if (lastWarningAt !== null && now - lastWarningAt < opts.warnIntervalMs) return undefined;
      const warning: DropWarning = { dropped: pending.dropped, byReason: pending.byReason, windowMs: now - (lastWarningAt ?? pending.since) };
      pending = { dropped: zeroKinds(), byReason: zeroReasons(), count: 0, since: now };
      lastWarningAt = now;
      warningsEmitted++;
      return warning;
    },
    snapshot: (): EventCounts => ({
      written: { ...written },
      dropped: { ...dropped },
      droppedByReason: { ...droppedByReason },
      warningsEmitted,
      lastWarningAt,
    }),
  };
}
