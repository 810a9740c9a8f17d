/**
 * `POST /__gateway/flush` (ADMIN_TOKEN): flushes this isolate's counters now and answers with what
 * happened and the batcher's state (field `stats`, kept for existing callers). For operators before
 * a deploy, and for tests that need the final flush. Other isolates are not reached: each flushes
 * on its own traffic.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { requireAdmin } from '../middleware/admin-token.js';

export const countersFlush = new Hono<AppEnv>();

countersFlush.post('/__gateway/flush', requireAdmin(), async (c) => {
  const ctx = c.get('ctx');
  const counters = ctx.services.counters;
  const report = await counters.flushNow(ctx);
  return c.json({
    sent: report.sent,
    results: report.results.map((r) => (r.ok ? { ok: true, status: r.status } : { ok: false, kind: r.kind })),
    stats: counters.snapshot(),
  });
});
