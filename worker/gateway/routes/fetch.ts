/** `POST /gateway/fetch` (also GET with query parameters): select rows, optionally counted. */
import { Hono } from 'hono';
import type { AppEnv } from '../../env.js';
import { readJsonObject } from '../body.js';
import { parseConditions } from '../conditions.js';
import { parseBody, run, runOnTenant, unwrap } from '../operation.js';
import { planFetch } from '../plan.js';
import { fetchBodyFromQuery } from '../query-params.js';
import { fetchBody } from '../schemas.js';
import { envelope, resolveStripNulls, toCount } from '../shape.js';
import { buildCount, buildSelect } from '../sql.js';

export const fetchRoute = new Hono<AppEnv>();

fetchRoute.on(['POST', 'GET'], '/gateway/fetch', async (c) => {
  const settings = c.get('settings');
  const raw = c.req.method === 'GET' ? fetchBodyFromQuery(new URL(c.req.url).searchParams) : await readJsonObject(c.req.raw, settings.GATEWAY_MAX_BODY_BYTES);
  const body = parseBody(fetchBody, raw);
  const where = unwrap(parseConditions(body.conditions));
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const table = body.table_name ?? body.view_name ?? '';
  const result = await runOnTenant(c, table, 'read', async (session, relation) => {
    const plan = unwrap(planFetch(body, relation, where, { maxLimit: settings.GATEWAY_MAX_LIMIT }));
    const count = plan.withCount ? toCount((await run(session, buildCount(relation, plan.select.where))).rows[0]?.count) : null;
    const rows = plan.head ? [] : (await run(session, buildSelect(plan.select))).rows;
    return envelope(rows, count, strip);
  });
  return c.json(result);
});
