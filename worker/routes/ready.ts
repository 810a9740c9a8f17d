/**
 * `GET /__gateway/ready`: readiness — one query against the catalog database through the same
 * budgeted session path the auth lookups use. Guarded by ADMIN_TOKEN when one is configured.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { withSession } from '../db/with-session.js';
import { targetOf } from '../db/target.js';
import { requireAdmin } from '../middleware/admin-token.js';

export const ready = new Hono<AppEnv>();

ready.get('/__gateway/ready', requireAdmin({ optional: true }), async (c) => {
  const settings = c.get('scope').settings;
  const target = targetOf(settings.authDatabaseUrl);
  const started = Date.now();
  try {
    const rows = await withSession(c.get('scope'), settings.authDatabaseUrl, 'ready', async (s) => (await s.query<{ now: string }>('SELECT now()::text AS now')).rows);
    return c.json({ status: 'ready', catalog: target.label, databaseTime: rows[0]?.now ?? null, ms: Date.now() - started });
  } catch {
    throw new GatewayError('database_unavailable', 'Catalog database unavailable', { hint: `Could not query ${target.label}.` });
  }
});
