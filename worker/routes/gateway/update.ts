/** `POST|PATCH /gateway/update`: update the rows matching `conditions` (never unfiltered). */
import { Hono } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { readJsonObject } from '../../gateway/body.js';
import { parseConditions } from '../../gateway/conditions.js';
import { parseBody, run, runOnTenant, scopeReturning, unwrap } from '../../gateway/operation.js';
import { planUpdate } from '../../gateway/plan.js';
import { updateBody } from '../../gateway/schemas.js';
import { envelope, resolveStripNulls } from '../../gateway/shape.js';
import { buildUpdate } from '../../gateway/sql.js';

export const updateRoute = new Hono<AuthedEnv>();

updateRoute.on(['POST', 'PATCH'], '/gateway/update', async (c) => {
  const raw = await readJsonObject(c.req.raw, c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES);
  const body = parseBody(updateBody, raw);
  const where = unwrap(parseConditions(body.conditions));
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const result = await runOnTenant(c, body.table_name, 'update', async (session, relation) => {
    const plan = scopeReturning(c, relation, unwrap(planUpdate(body, relation, where)));
    const res = await run(session, buildUpdate(plan));
    return envelope(res.rows, res.rowCount ?? res.rows.length, strip);
  });
  return c.json(result);
});
