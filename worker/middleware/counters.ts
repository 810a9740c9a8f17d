/**
 * `usage()`: after the rest of the chain has answered, records the request in the usage counters
 * (client; client × table × operation when the handler named one; key last-used) and lets the
 * stats service schedule a flush. Only requests whose client the auth middleware decided count.
 * Errors are status ≥ 400 — 4xx and 5xx alike: both are requests the client saw fail.
 * Recording never throws into the request and never delays its response.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { log } from '../log.js';
import { errorCodeOf } from '../errors.js';
import { statsOf } from '../counters/service.js';
import { sessionContextOf } from '../db/session-context.js';

export const usage = (): MiddlewareHandler<AppEnv> =>
  async function usage(c, next) {
    await next();
    const auth = c.get('auth');
    if (!auth) return;
    try {
      const at = Date.now();
      const table = c.get('usage');
      const startedAt = c.get('startedAt');
      statsOf(c.get('isolate')).record(
        {
          clientName: auth.clientName,
          isError: c.res.status >= 400,
          rateLimited: errorCodeOf(c.res) === 'rate_limited',
          at,
          keyId: auth.key?.id,
          table: table ? { tableName: table.tableName, operation: table.operation, durationMs: at - startedAt } : undefined,
        },
        sessionContextOf(c),
      );
    } catch (err) {
      log('error', 'usage_record_failed', { requestId: c.get('requestId'), message: err instanceof Error ? err.message : 'unknown' });
    }
  };
