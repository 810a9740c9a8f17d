/**
 * `counters()`: after the rest of the chain has answered, records the request in the counters
 * (client; client × table × operation when the handler named one; key last-used) and lets the
 * counters service schedule a flush. Only requests whose client the auth middleware decided count.
 * Errors are status ≥ 400 — 4xx and 5xx alike: both are requests the client saw fail.
 * Recording never throws into the request and never delays its response.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { log } from '../log.js';

export const counters = (): MiddlewareHandler<AppEnv> =>
  async function counters(c, next) {
    await next();
    const auth = c.get('auth');
    if (!auth) return;
    const ctx = c.get('ctx');
    try {
      const at = Date.now();
      const table = c.get('counted');
      ctx.services.counters.record(
        {
          clientName: auth.clientName,
          isError: c.res.status >= 400,
          rateLimited: c.get('errorCode') === 'rate_limited',
          at,
          keyId: auth.key?.id,
          table: table ? { tableName: table.tableName, operation: table.operation, durationMs: at - ctx.startedAt } : undefined,
        },
        ctx,
      );
    } catch (err) {
      log('error', 'usage_record_failed', { requestId: ctx.requestId, message: err instanceof Error ? err.message : 'unknown' });
    }
  };
