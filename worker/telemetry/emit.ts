/**
 * Entry point for best-effort telemetry. Never blocks and never throws into the request path.
 * TODO(telemetry issue): run through the bounded limiter and write rows; until then, a debug log.
 */
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import type { TelemetryEvent } from './events.js';

export function emitTelemetry(ctx: SessionContext, event: TelemetryEvent): void {
  log('debug', `telemetry_${event.kind}`, { requestId: ctx.requestId });
}
