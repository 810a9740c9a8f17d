/** `DELETE|POST /gateway/delete`: delete by `conditions` and/or `resource_id` (never unfiltered). */
import { Hono } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { readJsonObject } from '../../gateway/body.js';
import { parseConditions } from '../../gateway/conditions.js';
import { parseBody, run, runOnTenant, scopeReturning, unwrap } from '../../gateway/operation.js';
import { planDelete } from '../../gateway/plan.js';
import { deleteBody } from '../../gateway/schemas.js';
import { envelope, resolveStripNulls } from '../../gateway/shape.js';
import { buildDelete } from '../../gateway/sql.js';

export const deleteRoute = new Hono<AuthedEnv>();

deleteRoute.on(['DELETE', 'POST'], '/gateway/delete', async (c) => {
  const raw = await readJsonObject(c.req.raw, c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES);
  const body = parseBody(deleteBody, raw);
  const where = unwrap(parseConditions(body.conditions));
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const result = await runOnTenant(c, body.table_name, 'delete', async (session, relation) => {
    const plan = scopeReturning(c, relation, unwrap(planDelete(body, relation, where)));
    const res = await run(session, buildDelete(plan));
    return envelope(res.rows, res.rowCount ?? res.rows.length, strip);
  });
  return c.json(result);
});
