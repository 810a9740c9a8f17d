/**
 * `POST /gateway/transaction`: the SDK's operations (fetch, insert, update, delete, each with an
 * id) in one database transaction on one tenant session. Every operation is checked and planned
 * before BEGIN; the first failing one rolls everything back and is named in the error. With an
 * `idempotency_key`, a repeat of the same body replays the first committed response.
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../../env.js';
import type { Session } from '../../db/session.js';
import { GatewayError } from '../../errors.js';
import { readJsonObject } from '../../gateway/body.js';
import { complete, release, requestHash, reserve } from '../../gateway/idempotency.js';
import { authOf, parseBody, run, unwrap, withCatalog, withTenant } from '../../gateway/operation.js';
import { mapPgError } from '../../gateway/pg-errors.js';
import { stripNulls, toCount } from '../../gateway/shape.js';
import { beginStatement, planOperation, transactionBody, type PlannedOp, type TransactionBody } from '../../gateway/transaction-plan.js';

type OpResult = { id: string; ok: true; status: number; data: Record<string, unknown>[]; count: number | null };
type TxResponse = { data: { committed: true; results: OpResult[] } };

export const transactionRoute = new Hono<AppEnv>();

transactionRoute.post('/gateway/transaction', async (c) => {
  const settings = c.get('scope').settings;
  const body = parseBody(transactionBody, await readJsonObject(c.req.raw, settings.GATEWAY_MAX_BODY_BYTES));
  if (body.operations.length > settings.TRANSACTION_MAX_OPERATIONS) {
    throw new GatewayError('payload_too_large', `operations: ${body.operations.length} operations; the limit is ${settings.TRANSACTION_MAX_OPERATIONS}`, {
      hint: 'Split the work into several transactions.',
    });
  }
  const begin = unwrap(beginStatement(body.options));
  if (!body.idempotency_key) return c.json(await runTransaction(c, body, begin));

  const ctx = c.get('scope');
  const key = {
    client: authOf(c).clientName,
    key: body.idempotency_key,
    hash: await requestHash({ operations: body.operations, options: body.options ?? {} }),
    ttlMs: settings.TRANSACTION_IDEMPOTENCY_TTL_MS,
  };
  const reservation = await catalogStep(() => reserve(ctx, key));
  if (reservation.kind === 'replay') {
    c.header('idempotent-replayed', 'true');
    return c.json(reservation.response as TxResponse, reservation.status as 200);
  }
  if (reservation.kind !== 'reserved') {
    const message = reservation.kind === 'mismatch' ? 'idempotency_key was already used with a different body' : 'A transaction with this idempotency_key is still running';
    throw new GatewayError('conflict', message, { hint: reservation.kind === 'mismatch' ? 'Use a new key for a different transaction.' : 'Retry shortly to get its result.' });
  }
  let response: TxResponse;
  try {
    response = await runTransaction(c, body, begin);
  } catch (err) {
    await catalogStep(() => release(ctx, key)).catch(() => undefined);
    throw err;
  }
  await catalogStep(() => complete(ctx, key, 200, response));
  return c.json(response);
});

/** Catalog-database trouble around the idempotency record is a 503, like any catalog outage. */
async function catalogStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    throw new GatewayError('database_unavailable', 'Idempotency records unavailable', { hint: 'Retry shortly with the same idempotency_key.' });
  }
}

function runTransaction(c: Context<AppEnv>, body: TransactionBody, begin: string): Promise<TxResponse> {
  const settings = c.get('scope').settings;
  return withTenant(c, (session, tenant) =>
    withCatalog(c, session, tenant, async (catalog) => {
      const ctx = { catalog, tenant, auth: authOf(c), maxLimit: settings.GATEWAY_MAX_LIMIT, stripHeader: c.req.header('x-strip-nulls'), readOnly: body.options?.read_only === true };
      // Every operation is planned (and authorized) before BEGIN: a refusal runs no SQL at all.
      const planned = body.operations.map((op, i) => unwrap(planOperation(op, i, ctx)));
      await session.query(begin);
      const results: OpResult[] = [];
      for (const [i, op] of planned.entries()) results.push(await runOperation(session, op, i));
      await session.query('COMMIT');
      return { data: { committed: true, results } };
    }),
  );
}

/** Runs one planned operation; on failure rolls back and names it. */
async function runOperation(session: Session, op: PlannedOp, index: number): Promise<OpResult> {
  try {
    const count = op.count ? toCount((await run(session, op.count)).rows[0]?.count) : null;
    const res = op.main ? await run(session, op.main) : { rows: [], rowCount: null };
    const rows = op.hideRows ? [] : res.rows;
    return { id: op.id, ok: true, status: op.status, data: op.strip ? stripNulls(rows) : rows, count: op.kind === 'fetch' ? count : (res.rowCount ?? res.rows.length) };
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    const mapped = err instanceof GatewayError ? err : mapPgError(err);
    throw new GatewayError(mapped.code, `operations[${index}] (${op.id}) failed, the transaction was rolled back: ${mapped.message}`, mapped.hint === null ? {} : { hint: mapped.hint });
  }
}
