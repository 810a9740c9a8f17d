/**
 * `POST /gateway/query`: a read-only SELECT given as SQL text. The text is parsed (sql-select.ts),
 * re-planned through the fetch planner with every literal bound, and only the planner's statement
 * runs; the text itself never reaches the database. Scopes and catalog hiding are those of fetch.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AuthedEnv } from '../../env.js';
import { readJsonObject } from '../../gateway/body.js';
import { assertAnyTableScope } from '../../auth/scope.js';
import { parseBody, run, runOnTenant, unwrap } from '../../gateway/operation.js';
import { planFetch } from '../../gateway/plan.js';
import type { FetchBody } from '../../gateway/schemas.js';
import { envelope, resolveStripNulls, type Row } from '../../gateway/shape.js';
import { buildSelect } from '../../gateway/sql.js';
import { translateSelect, type SelectItem } from '../../gateway/sql-select.js';

/** What `query()`, `db.query()` and `admin.query()` send; `operation`/`expectedShape` are client-side hints. */
const queryBody = z.strictObject({
  query: z.string().min(1, 'must not be empty'),
  params: z
    .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .max(1000)
    .optional(),
  expectedShape: z.string().max(32).optional(),
  operation: z.string().max(32).optional(),
  strip_nulls: z.boolean().optional(),
});

export const queryRoute = new Hono<AuthedEnv>();

queryRoute.post('/gateway/query', async (c) => {
  // Before the body is read or the text parsed: a key that may read no table gets its 403 for free.
  assertAnyTableScope(c.get('auth'), 'read');
  const settings = c.get('ctx').settings;
  const body = parseBody(queryBody, await readJsonObject(c.req.raw, settings.GATEWAY_MAX_BODY_BYTES));
  const sel = unwrap(translateSelect(body.query.trim(), body.params ?? []));
  const strip = resolveStripNulls(body.strip_nulls, c.req.header('x-strip-nulls'));
  const fetchLike: FetchBody = {
    table_name: sel.table,
    ...(sel.columns === '*' ? {} : { columns: [...new Set(sel.columns.map((s) => s.column))] }),
    sort_by: sel.sortBy,
    ...(sel.limit === undefined ? {} : { limit: sel.limit }),
    ...(sel.offset === undefined ? {} : { offset: sel.offset }),
  };
  const result = await runOnTenant(c, sel.table, 'read', async (session, relation) => {
    const plan = unwrap(planFetch(fetchLike, relation, sel.where, { maxLimit: settings.GATEWAY_MAX_LIMIT }));
    const rows = (await run(session, buildSelect(plan.select))).rows;
    const shaped = sel.columns === '*' ? rows : rows.map((r) => project(r, sel.columns as readonly SelectItem[]));
    return envelope(shaped, shaped.length, strip);
  });
  return c.json(result);
});

/** Output keys in select-list order, aliases applied. */
function project(row: Row, items: readonly SelectItem[]): Row {
  const out: Row = {};
  for (const { column, key } of items) out[key] = row[column];
  return out;
}
