/**
 * `POST /gateway/rpc` and `GET /rpc/<fn>`: call a function of the tenant database the key may call
 * (`rpc` scope + its function list). The signature comes from the tenant catalog: arguments are
 * bound by name and cast to their declared types; the result is selected, filtered, ordered and
 * paged like a fetch. GET runs in a READ ONLY transaction, so it can never write.
 */
import { Hono, type Context } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { assertFunctionScope } from '../../auth/scope.js';
import { readJsonObject } from '../../gateway/body.js';
import { GatewayError } from '../../errors.js';
import { loadFunction } from '../../gateway/function-source.js';
import { callSource, checkFunctionSchema, describeFunction, pickOverload, resultRelation } from '../../gateway/functions.js';
import { bindable, parseBody, run, unwrap, withTenant } from '../../gateway/operation.js';
import { BatchStatementError } from '../../db/batch.js';
import type { Session } from '../../db/session.js';
import type { Statement } from '../../../drizzle/statement.js';
import { planFetch } from '../../gateway/plan.js';
import { fromBody, fromQuery, rpcBody, type RpcRequest } from '../../gateway/rpc-request.js';
import { envelope, resolveStripNulls, toCount, type DataEnvelope } from '../../gateway/shape.js';
import { buildCount, buildSelect } from '../../gateway/sql.js';

export const rpcRoute = new Hono<AuthedEnv>();

rpcRoute.post('/gateway/rpc', async (c) => {
  const raw = await readJsonObject(c.req.raw, c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES);
  return c.json(await callFunction(c, fromBody(parseBody(rpcBody, raw)), false));
});

rpcRoute.get('/rpc/:fn', async (c) => {
  const request = unwrap(fromQuery(c.req.param('fn'), new URL(c.req.url).searchParams));
  return c.json(await callFunction(c, request, true));
});

async function callFunction(c: Context<AuthedEnv>, req: RpcRequest, readOnly: boolean): Promise<DataEnvelope> {
  unwrap(checkFunctionSchema(req.schema));
  const label = req.schema === 'public' ? req.name : `${req.schema}.${req.name}`;
  assertFunctionScope(c.get('auth'), { schema: req.schema, name: req.name });
  const strip = resolveStripNulls(req.stripNulls, c.req.header('x-strip-nulls'));
  const maxLimit = c.get('ctx').settings.GATEWAY_MAX_LIMIT;
  return withTenant(c, async (session) => {
    const overloads = await loadFunction(session, req.schema, req.name);
    // Only input parameters are arguments: on GET, a key naming a result column is a filter.
    const names = new Set(overloads.flatMap((o) => describeFunction(o).inputs.map((p) => p.name)));
    const fn = unwrap(pickOverload(overloads, label, req.argNames(names)));
    c.set('counted', { tableName: label, operation: 'rpc' });
    const { args, where } = unwrap(req.split(fn));
    const relation = resultRelation(fn);
    if (fn.result === null && (req.fetch.columns !== undefined || where.length || req.fetch.sort_by !== undefined)) {
      throw new GatewayError('invalid_request', `${label} returns records whose columns the catalog does not name`, {
        hint: 'Call it without select, filters or order, or declare OUT parameters / RETURNS TABLE.',
      });
    }
    const plan = unwrap(planFetch(req.fetch, relation, where, { maxLimit }));
    // A count beside the rows evaluates the function twice: harmless only when it cannot write.
    if (plan.withCount && !plan.head && fn.volatile) {
      throw new GatewayError('invalid_request', `count on ${label} would call this VOLATILE function twice`, {
        hint: 'Use head: true for the count alone, or mark the function STABLE.',
      });
    }
    const source = unwrap(callSource(fn, args));
    const countSt = plan.withCount ? bindable(buildCount(relation, plan.select.where, source)) : null;
    const selectSt = plan.head ? null : bindable(buildSelect({ ...plan.select, source }));
    const statements = [countSt, selectSt].filter((st) => st !== null);
    // GET: one READ ONLY transaction (one batch); POST: each statement as it comes.
    const answers = readOnly ? await readOnlyBatch(session, statements) : await eachInTurn(session, statements);
    const count = countSt ? toCount(answers[0]?.rows[0]?.count) : null;
    const rows = selectSt ? (answers[countSt ? 1 : 0]?.rows ?? []) : [];
    return envelope(rows, count, strip);
  });
}

/** The statements in one READ ONLY transaction; a statement's error is reported as its own. */
async function readOnlyBatch(session: Session, statements: Statement[]) {
  try {
    return await session.batch({ statements, mode: { readOnly: true } });
  } catch (err) {
    throw err instanceof BatchStatementError ? err.cause : err;
  }
}

/** The statements one after another (one permit, one statement in flight). */
async function eachInTurn(session: Session, statements: Statement[]) {
  const answers = [];
  for (const st of statements) answers.push(await run(session, st));
  return answers;
}
