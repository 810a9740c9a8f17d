/**
 * Runs one telemetry task: try the isolate's limiter (never waits), then, in `waitUntil`, take a
 * permit from the logging target's budget for at most LOG_ACQUIRE_TIMEOUT_MS and write every event
 * of the task with one statement. Every failure ends as a counted drop; none reaches the request.
 */
import { SessionUnavailableError, withSession, type SessionContext } from '../db/with-session.js';
import { targetOf } from '../db/target.js';
import type { Settings } from '../config.js';
import { log } from '../log.js';
import type { TelemetryEvent } from './events.js';
import { buildTelemetryStatement } from './insert-sql.js';
import { createLimiter, type DropReason, type LimiterSnapshot, type TelemetryState } from './limiter.js';

/** Events of one request, written together when it ends. */
export type RequestEvents = { events: TelemetryEvent[] };

/** The isolate's telemetry (one of its services): persists across requests, holds only counters and permit timestamps. */
export const createTelemetryState = (settings: Settings): TelemetryState => ({
  limiter: createLimiter({
    limit: settings.logTaskLimit,
    warnIntervalMs: settings.LOG_DROP_WARN_INTERVAL_MS,
    leaseMs: settings.DB_PERMIT_LEASE_MS,
    now: () => Date.now(),
  }),
  lastFailure: null,
});

/** The limiter's counters plus the last write failure, for `GET /__gateway/status`. */
export function telemetrySnapshot(state: TelemetryState): LimiterSnapshot & { lastFailure: string | null } {
  return { ...state.limiter.snapshot(), lastFailure: state.lastFailure };
}

/** Submits `events` as one task. Returns at once; the write (if accepted) runs in `waitUntil`. */
export function runTelemetryTask(ctx: SessionContext, events: readonly TelemetryEvent[]): void {
  if (events.length === 0) return;
  const state = ctx.isolate.services.telemetry;
  const kinds = events.map((e) => e.kind);
  const permit = state.limiter.tryAcquire();
  if (!permit) {
    drop(ctx.isolate.settings, state, kinds, 'saturated');
    return;
  }
  const task = write(ctx, events)
    .then(
      () => state.limiter.recordWritten(kinds),
      (err: unknown) => {
        const reason: DropReason = err instanceof SessionUnavailableError ? 'unavailable' : 'failed';
        if (reason === 'failed') state.lastFailure = failureClass(err);
        drop(ctx.isolate.settings, state, kinds, reason);
      },
    )
    .finally(() => state.limiter.release(permit))
    // Last resort: counting or logging itself must not surface as an unhandled rejection.
    .catch(() => undefined);
  ctx.waitUntil(task);
}

async function write(ctx: SessionContext, events: readonly TelemetryEvent[]): Promise<void> {
  const statement = buildTelemetryStatement(events);
  if (!statement) return;
  const { settings } = ctx.isolate;
  const acquireTimeoutMs = Math.min(settings.LOG_ACQUIRE_TIMEOUT_MS, settings.DB_ACQUIRE_TIMEOUT_MS);
  await withSession(ctx, settings.loggingDatabaseUrl, 'logging', (s) => s.query(statement.text, statement.params), {
    acquireTimeoutMs,
  });
}

function drop(settings: Settings, state: TelemetryState, kinds: TelemetryEvent['kind'][], reason: DropReason): void {
  state.limiter.recordDropped(kinds, reason);
  const warning = state.limiter.takeWarning();
  if (!warning) return;
  const { dropped, byReason, windowMs } = warning;
  const total = byReason.saturated + byReason.unavailable + byReason.failed;
  log('warn', 'telemetry_dropped', {
    message: `Telemetry dropped: ${total} event(s) in the last ${windowMs} ms`,
    request: dropped.request,
    auth_attempt: dropped.auth_attempt,
    admission: dropped.admission,
    saturated: byReason.saturated,
    unavailable: byReason.unavailable,
    failed: byReason.failed,
    windowMs,
    logTaskLimit: settings.logTaskLimit,
    loggingTarget: targetOf(settings.loggingDatabaseUrl).label,
    lastFailure: byReason.failed > 0 ? state.lastFailure : undefined,
  });
}

/** `error name` plus SQLSTATE when the driver gives one; never the message (it may quote values). */
function failureClass(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown';
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' ? `${err.name} ${code}` : err.name;
}
