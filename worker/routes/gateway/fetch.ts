/** `POST /gateway/fetch` (also GET with query parameters): select rows, optionally counted, optionally with embeds. */
import { Hono } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { isAllowed } from '../../auth/scope.js';
import type { TableRef } from '../../auth/table-ref.js';
import { readJsonObject } from '../../gateway/body.js';
import { checkEmbedScope, resolveEmbed } from '../../gateway/embed.js';
import { foreignKeysOf } from '../../gateway/foreign-keys.js';
import { parseBody, run, runOnTenant, unwrap } from '../../gateway/operation.js';
import { planFetch } from '../../gateway/plan.js';
import { fetchBodyFromQuery } from '../../gateway/query-params.js';
import { fetchBody } from '../../gateway/schemas.js';
import { envelope, resolveStripNulls, toCount } from '../../gateway/shape.js';
import { buildCount, buildSelect, type Embed } from '../../gateway/sql.js';
import { plannerShapeOf } from '../../gateway/structured.js';

export const fetchRoute = new Hono<AuthedEnv>();

fetchRoute.on(['POST', 'GET'], '/gateway/fetch', async (c) => {
  const settings = c.get('ctx').settings;
  const raw = c.req.method === 'GET' ? fetchBodyFromQuery(new URL(c.req.url).searchParams) : await readJsonObject(c.req.raw, settings.GATEWAY_MAX_BODY_BYTES);
  const body = parseBody(fetchBody, raw);
  const shape = unwrap(plannerShapeOf(body));
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const table = body.table_name ?? body.view_name ?? '';
  const result = await runOnTenant(c, table, 'read', async (session, relation, catalog) => {
    const plan = unwrap(
      planFetch({ ...body, columns: shape.columns?.length ? shape.columns : undefined, sort_by: shape.sort }, relation, shape.where, {
        maxLimit: settings.GATEWAY_MAX_LIMIT,
      }),
    );
    if (shape.embeds.length > 0) {
      // Embedding reads another table: the key must be allowed to read it, checked before anything about it is looked up.
      const mayRead = (t: TableRef) => isAllowed(c.get('auth'), 'read', t);
      for (const spec of shape.embeds) unwrap(checkEmbedScope(relation, spec, mayRead));
      const keys = await foreignKeysOf(c.get('ctx').services.foreignKeys, catalog, session);
      const embeds: Embed[] = shape.embeds.map((spec) => unwrap(resolveEmbed(relation, spec, catalog, keys, mayRead)));
      const columns = shape.columns?.length === 0 ? [] : plan.select.columns; // only embeds selected
      plan.select = { ...plan.select, columns, embeds, embedLimit: settings.GATEWAY_MAX_LIMIT };
    }
    const count = plan.withCount ? toCount((await run(session, buildCount(relation, plan.select.where))).rows[0]?.count) : null;
    const rows = plan.head ? [] : (await run(session, buildSelect(plan.select))).rows;
    return envelope(rows, count, strip);
  });
  return c.json(result);
});
