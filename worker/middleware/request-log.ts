/**
 * The request-log middleware: opens the request's telemetry batch, lets the request run, then adds
 * the request-log row (per REQUEST_LOG) and submits the batch as one limiter task. Mounted right
 * after `requestContext()` so every later event of the request (auth attempts, admission 503s) joins.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthContext } from '../auth/context.js';
import type { SessionContext } from '../db/with-session.js';
import type { AppEnv } from '../env.js';
import type { TelemetryEvent } from '../telemetry/events.js';
import { openRequestBatch } from '../telemetry/emit.js';
import { runTelemetryTask } from '../telemetry/task.js';
import { loggableClientName } from '../auth/credentials.js';
import { loggablePath } from '../telemetry/loggable-path.js';

export type RequestLogOptions = {
  /** Overrides REQUEST_LOG (all | errors | off); by default the setting decides per request. */
  mode?: 'all' | 'errors' | 'off';
};

export const requestLog = (opts: RequestLogOptions = {}): MiddlewareHandler<AppEnv> =>
  async function requestLog(c, next) {
    const isolate = c.get('isolate');
    const requestId = c.get('requestId');
    const close = openRequestBatch(isolate, requestId);
    try {
      await next();
    } finally {
      const events = close();
      const mode = opts.mode ?? c.get('settings').REQUEST_LOG;
      const status = c.res.status;
      if (mode === 'all' || (mode === 'errors' && status >= 400)) events.push(await requestEvent(c, status));
      const ctx = sessionContextOf(c);
      if (ctx) runTelemetryTask(ctx, events);
    }
  };

async function requestEvent(c: Context<AppEnv>, status: number): Promise<TelemetryEvent> {
  const auth: AuthContext | undefined = c.get('auth');
  const usage: AppEnv['Variables']['usage'] | undefined = c.get('usage');
  return {
    kind: 'request',
    requestId: c.get('requestId'),
    clientName: auth?.clientName ?? loggableClientName(c.req.header('x-athena-client')),
    keyPrefix: auth?.key?.prefix ?? null,
    method: c.req.method,
    path: loggablePath(c.req.url),
    tableName: usage?.tableName ?? null,
    operation: usage?.operation ?? null,
    status,
    errorCode: status >= 400 ? await errorCodeOf(c.res) : null,
    durationMs: Date.now() - c.get('startedAt'),
  };
}

/** `error.code` of the gateway's JSON envelope; null for other bodies. Reads a clone, small bodies only. */
async function errorCodeOf(res: Response): Promise<string | null> {
  const length = Number(res.headers.get('content-length') ?? '0');
  if (!res.headers.get('content-type')?.includes('application/json') || length > 16_384) return null;
  try {
    const body: unknown = await res.clone().json();
    if (typeof body !== 'object' || body === null || !('error' in body)) return null;
    const { error } = body;
    if (typeof error !== 'object' || error === null || !('code' in error)) return null;
    return typeof error.code === 'string' ? error.code : null;
  } catch {
    return null;
  }
}

/** The telemetry context of this request; undefined when run without an execution context. */
function sessionContextOf(c: Context<AppEnv>): SessionContext | undefined {
  try {
    const exec = c.executionCtx;
    return { isolate: c.get('isolate'), requestId: c.get('requestId'), waitUntil: (p) => exec.waitUntil(p) };
  } catch {
    return undefined;
  }
}
