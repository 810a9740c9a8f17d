/**
 * Entry point for best-effort telemetry. Never blocks and never throws into the request path.
 *
 * While the request-log middleware has a batch open for the event's request id, events join it and
 * the whole request costs one limiter permit and one INSERT statement when the request ends.
 * Events outside a request (or after it ended, e.g. from a background flush) run as their own task.
 */
import type { SessionContext } from '../db/with-session.js';
import type { Isolate } from '../isolate.js';
import { log } from '../log.js';
import type { TelemetryEvent } from './events.js';
import { runTelemetryTask, type RequestEvents } from './task.js';

/** More events than this in one request go out as their own tasks (bounded memory per request). */
const MAX_EVENTS_PER_BATCH = 32;
/** More concurrently open batches than this and new requests emit directly (bounded map). */
const MAX_OPEN_BATCHES = 2048;

/**
 * Admission events record requests refused with 503. Budget timeouts of background work are not
 * that: a logging one is already a counted telemetry drop (writing it would spend a logging permit
 * to say logging permits ran out) and a counters one is a counted batcher failure.
 */
const BACKGROUND_PURPOSES: ReadonlySet<string> = new Set(['logging', 'stats']);

/** Records `event` best-effort: joins the request's open batch, or runs as its own task. */
export function emitTelemetry(ctx: SessionContext, event: TelemetryEvent): void {
  try {
    if (event.kind === 'admission' && BACKGROUND_PURPOSES.has(event.purpose)) return;
    const batch = ctx.requestId === undefined ? undefined : ctx.isolate.services.telemetry.openBatches.get(ctx.requestId);
    if (batch && batch.events.length < MAX_EVENTS_PER_BATCH) {
      batch.events.push(event);
      return;
    }
    runTelemetryTask(ctx, [event]);
  } catch (err) {
    log('error', 'telemetry_emit_failed', { requestId: ctx.requestId, error: err instanceof Error ? err.name : 'unknown' });
  }
}

/**
 * Opens a batch for one request; the returned function closes it and returns its events.
 * A second request reusing a still-open id shares the first one's batch; its later events, after
 * the first closes, go out on their own — correct, just less coalesced.
 */
export function openRequestBatch(isolate: Isolate, requestId: string): () => TelemetryEvent[] {
  const open = isolate.services.telemetry.openBatches;
  if (open.has(requestId) || open.size >= MAX_OPEN_BATCHES) return () => [];
  const batch: RequestEvents = { events: [] };
  open.set(requestId, batch);
  return () => {
    if (open.get(requestId) === batch) open.delete(requestId);
    return batch.events;
  };
}
