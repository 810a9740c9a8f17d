/**
 * `POST /__gateway/flush` (ADMIN_TOKEN): flushes this isolate's usage counters now and answers
 * with what happened and the batcher's state. For operators before a deploy, and for tests that
 * need the final flush. Other isolates are not reached: each flushes on its own traffic.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { requireAdmin } from '../middleware/admin-token.js';
import { statsOf } from '../counters/service.js';
import { sessionContextOf } from '../db/session-context.js';

export const statsFlush = new Hono<AppEnv>();

statsFlush.post('/__gateway/flush', requireAdmin(), async (c) => {
  const stats = statsOf(c.get('isolate'));
  const report = await stats.flushNow(sessionContextOf(c));
  return c.json({
    sent: report.sent,
    results: report.results.map((r) => (r.ok ? { ok: true, status: r.status } : { ok: false, kind: r.kind })),
    stats: stats.snapshot(),
  });
});
