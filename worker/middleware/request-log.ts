/**
 * The request-log middleware: opens the request's telemetry batch, lets the request run, then adds
 * the request-log row (per REQUEST_LOG) and submits the batch as one limiter task. Mounted after
 * `counters()` and before auth and the routes, so every event of the request's handling (auth
 * attempts, admission 503s) joins its batch.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import type { TelemetryEvent } from '../telemetry/events.js';
import { openRequestBatch } from '../telemetry/emit.js';
import { runTelemetryTask } from '../telemetry/task.js';
import { loggableClientName } from '../auth/credentials.js';
import { loggablePath } from '../telemetry/loggable-path.js';

type RequestLogOptions = {
  /** Overrides REQUEST_LOG (all | errors | off); by default the setting decides per request. */
  mode?: 'all' | 'errors' | 'off';
};

export const requestLog = (opts: RequestLogOptions = {}): MiddlewareHandler<AppEnv> =>
  async function requestLog(c, next) {
    const ctx = c.get('ctx');
    const close = openRequestBatch(ctx);
    try {
      await next();
    } finally {
      const events = close();
      const mode = opts.mode ?? ctx.settings.REQUEST_LOG;
      const status = c.res.status;
      if (mode === 'all' || (mode === 'errors' && status >= 400)) events.push(requestEvent(c, status));
      // Without an execution context nothing may outlive the response: the events are not written.
      if (ctx.canOutliveResponse) runTelemetryTask(ctx, events);
    }
  };

function requestEvent(c: Context<AppEnv>, status: number): TelemetryEvent {
  const ctx = c.get('ctx');
  const auth = c.get('auth');
  const counted = c.get('counted');
  return {
    kind: 'request',
    requestId: ctx.requestId,
    clientName: auth?.clientName ?? loggableClientName(c.req.header('x-athena-client')),
    keyPrefix: auth?.key?.prefix ?? null,
    method: c.req.method,
    path: loggablePath(c.req.url),
    tableName: counted?.tableName ?? null,
    operation: counted?.operation ?? null,
    status,
    errorCode: status >= 400 ? (c.get('errorCode') ?? null) : null,
    durationMs: Date.now() - ctx.startedAt,
  };
}
