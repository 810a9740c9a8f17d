/**
 * `GET /__gateway/ready`: readiness — on every distinct database target (catalog/auth, tenant,
 * logging), one statement through the same budgeted, bounded session path requests use, asking the
 * server which statement and lock timeout are in force for it (db/server-timeouts.ts). Not ready
 * (503) when a target cannot be reached or its timeouts are not the ones the gateway sends.
 * Guarded by ADMIN_TOKEN when one is configured.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { withSession } from '../db/with-session.js';
import { targetOf } from '../db/target.js';
import { judgeTimeouts, SERVER_TIMEOUTS_SQL, type ServerTimeouts, type ServerTimeoutsRow } from '../db/server-timeouts.js';
import { requireAdmin } from '../middleware/admin-token.js';

export const ready = new Hono<AppEnv>();

ready.get('/__gateway/ready', requireAdmin({ optional: true }), async (c) => {
  const ctx = c.get('ctx');
  const { settings } = ctx;
  const started = Date.now();
  const urls = new Map<string, string>();
  for (const url of [settings.authDatabaseUrl, settings.tenantDatabaseUrl, settings.loggingDatabaseUrl]) urls.set(targetOf(url).key, url);
  // One check per target, side by side: each waits only on its own target's budget.
  const checks = [...urls.values()].map(async (url) => {
    const target = targetOf(url);
    let row: ServerTimeoutsRow | undefined;
    try {
      row = await withSession(ctx, url, 'ready', async (s) => (await s.query<ServerTimeoutsRow>(SERVER_TIMEOUTS_SQL)).rows[0]);
    } catch {
      throw new GatewayError('database_unavailable', 'Database unavailable', { hint: `Could not query ${target.label}.` });
    }
    return { judged: judgeTimeouts(settings, target.label, row, Date.now()), now: row?.now ?? null };
  });
  const answers = await Promise.all(checks);
  const targets: ServerTimeouts[] = answers.map((a) => a.judged);
  // Kept in target order (not in the order the checks ended): the status document lists them alike.
  for (const t of targets) ctx.isolate.services.serverTimeouts.set(t.target, t);
  const databaseTime = answers[0]?.now ?? null;
  const off = targets.find((t) => !t.inForce);
  if (off) {
    throw new GatewayError('database_unavailable', `Server-side timeouts not in force on ${off.target}`, {
      hint:
        `The server reports statement_timeout ${off.statementTimeoutMs} ms and lock_timeout ${off.lockTimeoutMs} ms for the gateway's statements; ` +
        `expected ${off.expectedMs} ms (docs/deploy.md "Server-side timeouts").`,
    });
  }
  return c.json({ status: 'ready', catalog: targetOf(settings.authDatabaseUrl).label, databaseTime, targets, ms: Date.now() - started });
});
