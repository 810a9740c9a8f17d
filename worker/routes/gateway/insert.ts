/** `PUT|POST /gateway/insert`: insert one or many rows, or upsert with `on_conflict`/`update_body`. */
import { Hono } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { assertScope } from '../../auth/scope.js';
import { readJsonObject } from '../../gateway/body.js';
import { parseBody, run, runOnTenant, scopeReturning, unwrap } from '../../gateway/operation.js';
import { planInsert } from '../../gateway/plan.js';
import { insertBody } from '../../gateway/schemas.js';
import { envelope, resolveStripNulls } from '../../gateway/shape.js';
import { buildInsert } from '../../gateway/sql.js';

export const insertRoute = new Hono<AuthedEnv>();

insertRoute.on(['PUT', 'POST'], '/gateway/insert', async (c) => {
  const raw = await readJsonObject(c.req.raw, c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES);
  const body = parseBody(insertBody, raw);
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const result = await runOnTenant(c, body.table_name, 'insert', async (session, relation) => {
    const plan = unwrap(planInsert(body, relation));
    // An upsert that may overwrite rows needs the update scope as well.
    if (plan.conflict && plan.conflict.action.kind !== 'nothing') assertScope(c.get('auth'), 'update', relation, body.table_name);
    const res = await run(session, buildInsert(scopeReturning(c, relation, plan)));
    return envelope(body.head ? [] : res.rows, res.rowCount ?? res.rows.length, strip);
  });
  return c.json(result, 201);
});
