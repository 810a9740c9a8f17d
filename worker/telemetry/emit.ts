/**
 * Entry point for best-effort telemetry. Never blocks and never throws into the request path.
 *
 * While the request-log middleware has a batch open on the request's own context, the request's
 * events join it and the whole request costs one limiter permit and one INSERT statement when it
 * ends. The batch is found through the context, never by request id: the id is the client's to
 * choose, so two requests may share one. Events outside a request (or after it ended, e.g. from a
 * background flush) run as their own task.
 */
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import type { TelemetryEvent } from './events.js';
import { runTelemetryTask, type RequestEvents } from './task.js';

/** More events than this in one request go out as their own tasks (bounded memory per request). */
const MAX_EVENTS_PER_BATCH = 32;

/** What holds a request's open batch: its own context (request-context.ts). */
export type BatchHolder = { telemetryBatch: RequestEvents | undefined };

/**
 * Admission events record requests refused with 503. Budget timeouts of background work are not
 * that: a logging one is already a counted telemetry drop (writing it would spend a logging permit
 * to say logging permits ran out) and a counters one is a counted batcher failure.
 */
const BACKGROUND_PURPOSES: ReadonlySet<string> = new Set(['logging', 'stats']);

/** Records `event` best-effort: joins the request's open batch, or runs as its own task. */
export function emitTelemetry(ctx: SessionContext & Partial<BatchHolder>, event: TelemetryEvent): void {
  try {
    if (event.kind === 'admission' && BACKGROUND_PURPOSES.has(event.purpose)) return;
    const batch = ctx.telemetryBatch;
    if (batch && batch.events.length < MAX_EVENTS_PER_BATCH) {
      batch.events.push(event);
      return;
    }
    runTelemetryTask(ctx, [event]);
  } catch (err) {
    log('error', 'telemetry_emit_failed', { requestId: ctx.requestId, error: err instanceof Error ? err.name : 'unknown' });
  }
}

/** Opens a batch on one request's context; the returned function closes it and returns its events. */
export function openRequestBatch(holder: BatchHolder): () => TelemetryEvent[] {
  const batch: RequestEvents = { events: [] };
  holder.telemetryBatch = batch;
  return () => {
    if (holder.telemetryBatch === batch) holder.telemetryBatch = undefined;
    return batch.events;
  };
}
