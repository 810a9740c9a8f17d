/**
 * Counts the requests this isolate refused, by error code (the envelope's `code`) and by HTTP
 * status, for `/__gateway/status` and the operator console's 503/s. Mounted right after
 * `requestContext()`, so it sees every answer the chain gave.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export const refusals = (): MiddlewareHandler<AppEnv> =>
  async function refusals(c, next) {
    try {
      await next();
    } finally {
      const status = c.res.status;
      if (status >= 400) {
        const counts = c.get('ctx').services.refusals;
        counts.total += 1;
        // A response not built by the error edge has no code of ours: counted by status only.
        bump(counts.byCode, c.get('errorCode') ?? `http_${status}`);
        bump(counts.byStatus, String(status));
      }
    }
  };
