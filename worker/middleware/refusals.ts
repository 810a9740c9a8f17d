/**
 * Counts the requests this isolate refused, by error code (the envelope's `code`) and by HTTP
 * status, for `/__gateway/status` and the operator console's 503/s. Mounted right after
 * `requestContext()`, so it sees every answer the chain gave.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import type { Isolate } from '../isolate.js';

export type RefusalSnapshot = { total: number; byCode: Record<string, number>; byStatus: Record<string, number> };

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
        const counts = c.get('scope').services.refusals;
        counts.total += 1;
        // A response not built by the error edge has no code of ours: counted by status only.
        bump(counts.byCode, c.get('errorCode') ?? `http_${status}`);
        bump(counts.byStatus, String(status));
      }
    }
  };

/** A copy of this isolate's refusal counters. */
export function refusalSnapshot(isolate: Isolate): RefusalSnapshot {
  const r = isolate.services.refusals;
  return { total: r.total, byCode: { ...r.byCode }, byStatus: { ...r.byStatus } };
}
