/**
 * `POST /gateway/transaction`: the SDK's operations (fetch, insert, update, delete, each with an
 * id) in one database transaction on one tenant session. Every operation is checked and planned
 * before any SQL runs, so the transaction travels as one batch (one round trip over HTTP); the
 * first failing operation rolls everything back and is named in the error. With an
 * `idempotency_key`, the checks run first, then the key's own record answers a repeat with the
 * first committed response, byte for byte (gateway/idempotent-run.ts): that run stores its
 * response before COMMIT, so it holds its transaction open on a WebSocket session.
 */
import { Hono, type Context } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { BatchStatementError, beginText, type TransactionMode } from '../../db/batch.js';
import { SessionConnectError, type Session } from '../../db/session.js';
import { GatewayError } from '../../errors.js';
import { readJsonObject } from '../../gateway/body.js';
import type { RecordKey } from '../../gateway/idempotency.js';
import { commitFailure, runIdempotent, type IdempotentAnswer } from '../../gateway/idempotent-run.js';
import { bindable, databaseError, nestedTooDeeply, parseBody, run, unwrap, withTenantCatalog, withTenant } from '../../gateway/operation.js';
import { sqlState } from '../../gateway/pg-errors.js';
import { canonicalJson, requestHash } from '../../gateway/request-hash.js';
import { batchOf, opResult, opResults, type OpResult } from '../../gateway/transaction-batch.js';
import { planOperation, transactionBody, transactionMode, type PlannedOp, type TransactionBody } from '../../gateway/transaction-plan.js';
import type { Settings } from '../../config.js';

type TxResponse = { data: { committed: true; results: OpResult[] } };

export const transactionRoute = new Hono<AuthedEnv>();

transactionRoute.post('/gateway/transaction', async (c) => {
  const settings = c.get('ctx').settings;
  const body = parseBody(transactionBody, await readJsonObject(c.req.raw, settings.GATEWAY_MAX_BODY_BYTES));
  if (body.operations.length > settings.TRANSACTION_MAX_OPERATIONS) {
    throw new GatewayError('payload_too_large', `operations: ${body.operations.length} operations; the limit is ${settings.TRANSACTION_MAX_OPERATIONS}`, {
      hint: 'Split the work into several transactions.',
    });
  }
  const mode = unwrap(transactionMode(body.options));
  // Past the canonical form's bounds is refused with or without a key, before any session: the same 400.
  const canonical = canonicalJson({ operations: body.operations, options: body.options ?? {} });
  if (canonical === undefined) throw nestedTooDeeply();
  const key = body.idempotency_key ? await recordKey(c, body.idempotency_key, canonical) : null;
  const answer = key ? await idempotent(c, body, mode, key) : await batched(c, body, mode);
  if (answer.replayed) c.header('idempotent-replayed', 'true');
  return c.body(answer.text, answer.status as 200, { 'content-type': 'application/json' });
});

/** The caller's record: its client, its API key, its idempotency key and the body's hash. */
async function recordKey(c: Context<AuthedEnv>, idempotencyKey: string, canonical: string): Promise<RecordKey> {
  const auth = c.get('auth');
  return { client: auth.clientName, keyId: auth.key?.id ?? '', key: idempotencyKey, hash: await requestHash(canonical) };
}

/**
 * A reservation that stored nothing is abandoned after the longest its run could take to reach
 * COMMIT: the transaction's whole deadline plus one catalog statement (the store); a run outliving
 * it finds its record taken and rolls back.
 */
function recordTimes(settings: Settings): { ttlMs: number; abandonedAfterMs: number } {
  return { ttlMs: settings.TRANSACTION_IDEMPOTENCY_TTL_MS, abandonedAfterMs: settings.TRANSACTION_TIMEOUT_MS + settings.DB_STATEMENT_TIMEOUT_MS };
}

function plan(c: Context<AuthedEnv>, body: TransactionBody, catalog: Parameters<typeof planOperation>[2]['catalog']): PlannedOp[] {
  const settings = c.get('ctx').settings;
  const ctx = {
    catalog,
    auth: c.get('auth'),
    maxLimit: settings.GATEWAY_MAX_LIMIT,
    stripHeader: c.req.header('x-strip-nulls'),
    readOnly: body.options?.read_only === true,
  };
  // Every operation is planned (and authorized) before BEGIN: a refusal runs no SQL at all.
  return body.operations.map((op, i) => unwrap(planOperation(op, i, ctx)));
}

/** Without a key: the planned operations as one batch; a failure names its operation. */
async function batched(c: Context<AuthedEnv>, body: TransactionBody, mode: TransactionMode): Promise<IdempotentAnswer> {
  const settings = c.get('ctx').settings;
  type Failed = { mapped: GatewayError; state: string | undefined; at: number | undefined; planned: PlannedOp[]; deadline: number };
  const outcome = await withTenant(c, async (tenantSession, tenant): Promise<{ text: string } | { failed: Failed }> => {
    // TRANSACTION_TIMEOUT_MS counts from the moment the session is had: the statements' server-side
    // timeouts are cut to what is left, so the server itself ends the transaction at its deadline.
    const deadline = Date.now() + settings.TRANSACTION_TIMEOUT_MS;
    const session = tenantSession.until(deadline);
    const planned = await withTenantCatalog(c, session, tenant, async (catalog) => plan(c, body, catalog));
    planned.forEach((op, i) => {
      namedIfThrows(op, i, () => {
        for (const st of [op.count, op.main]) if (st) bindable(st);
      });
    });
    const { statements, owners } = batchOf(planned);
    try {
      const results = opResults(planned, await session.batch({ statements, mode }));
      return { text: JSON.stringify({ data: { committed: true, results } } satisfies TxResponse) };
    } catch (err) {
      // A startup the server refused is the session's (503 from withSession), not an operation's.
      if (err instanceof SessionConnectError) throw err;
      // No statement's error: the connection went during COMMIT (or the request went unanswered).
      if (!(err instanceof BatchStatementError)) throw commitFailure(err);
      const at = err.index === null ? (planned.length === 1 ? 0 : undefined) : owners[err.index];
      return { failed: { mapped: databaseError(c, tenant, err.cause), state: sqlState(err.cause), at, planned, deadline } };
    }
  });
  if ('text' in outcome) return { status: 200, text: outcome.text, replayed: false };
  const { mapped, state, planned, deadline } = outcome.failed;
  const at = outcome.failed.at ?? (await locateFailure(c, mode, planned, state));
  throw operationError(mapped, at === undefined ? undefined : { index: at, op: planned[at] as PlannedOp }, planned.length, deadline);
}

/**
 * Which operation fails, when the batch's answer did not say (Neon's HTTP error carries no
 * statement position): the same statements once more on a WebSocket session, BEGIN through the
 * first error and always ROLLBACK, so nothing of this run is ever kept. Undefined when it cannot
 * tell: nothing fails the second time, another error does, or the first was one of timing
 * (timeouts, serialization, deadlock), which a second run would only repeat at the same cost.
 */
async function locateFailure(
  c: Context<AuthedEnv>,
  mode: TransactionMode,
  planned: readonly PlannedOp[],
  state: string | undefined,
): Promise<number | undefined> {
  if (!state || /^(57|40|55P03)/.test(state)) return undefined;
  const settings = c.get('ctx').settings;
  try {
    return await withTenant(
      c,
      async (tenantSession) => {
        const session = tenantSession.until(Date.now() + settings.TRANSACTION_TIMEOUT_MS);
        await session.query(beginText(mode));
        try {
          for (const [i, op] of planned.entries()) {
            for (const st of [op.count, op.main]) {
              if (!st) continue;
              const failed = await session.query(st.text, st.params).then(
                () => false,
                (err: unknown) => sqlState(err) === state,
              );
              if (failed) return i;
            }
          }
          return undefined;
        } finally {
          await session.query('ROLLBACK').catch(() => undefined);
        }
      },
      { interactive: true },
    );
  } catch {
    return undefined;
  }
}

/** `fn`'s gateway error as operation `index`'s own. */
function namedIfThrows(op: PlannedOp, index: number, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    throw operationError(err, { index, op }, 0, Infinity);
  }
}

/** The error the caller sees: the operation named when known; a timeout at the deadline is the transaction's own. */
function operationError(mapped: GatewayError, failing: { index: number; op: PlannedOp } | undefined, count: number, deadline: number): GatewayError {
  const which = failing ? `operations[${failing.index}] (${failing.op.id})` : `one of the ${count} operations`;
  if (mapped.code === 'statement_timeout' && Date.now() >= deadline) {
    return new GatewayError('statement_timeout', `${which} was running when the transaction reached TRANSACTION_TIMEOUT_MS; the transaction was rolled back`, {
      hint: 'Run fewer or narrower operations per transaction, or raise TRANSACTION_TIMEOUT_MS.',
    });
  }
  return new GatewayError(
    mapped.code,
    `${which} failed, the transaction was rolled back: ${mapped.message}`,
    mapped.hint === null ? {} : { hint: mapped.hint },
  );
}

/**
 * With a key: reserve the record, run BEGIN, the operations, store the response, COMMIT — a
 * transaction held open across round trips to two databases, so on a WebSocket session.
 */
async function idempotent(c: Context<AuthedEnv>, body: TransactionBody, mode: TransactionMode, key: RecordKey): Promise<IdempotentAnswer> {
  const settings = c.get('ctx').settings;
  return withTenant(
    c,
    async (tenantSession, tenant) => {
      const deadline = Date.now() + settings.TRANSACTION_TIMEOUT_MS;
      const session = tenantSession.until(deadline);
      // Authorized and planned first: a key that may not run the body gets its 403, never a record.
      const planned = await withTenantCatalog(c, session, tenant, async (catalog) => plan(c, body, catalog));
      const runOne = (op: PlannedOp, i: number) => runOperation(session, op, i, deadline, (err) => databaseError(c, tenant, err));
      const ctx = c.get('ctx');
      return runIdempotent(
        {
          ctx,
          catalogUrl: settings.DATABASE_URL,
          signal: c.req.raw.signal,
          tenant: session,
          tenantTargetKey: tenant.target.key,
          key,
          times: recordTimes(settings),
        },
        (beforeCommit) => runTransaction(session, beginText(mode), planned, runOne, beforeCommit),
      );
    },
    { interactive: true },
  );
}

/** BEGIN, the operations (each through `runOne`), `beforeCommit` with the response text, COMMIT; returns that text. */
async function runTransaction(
  session: Session,
  begin: string,
  planned: PlannedOp[],
  runOne: (op: PlannedOp, index: number) => Promise<OpResult>,
  beforeCommit: (text: string) => Promise<void>,
): Promise<string> {
  await session.query(begin);
  const results: OpResult[] = [];
  for (const [i, op] of planned.entries()) results.push(await runOne(op, i));
  const text = JSON.stringify({ data: { committed: true, results } } satisfies TxResponse);
  try {
    await beforeCommit(text);
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await session.query('COMMIT').catch((err: unknown) => {
    throw commitFailure(err);
  });
  return text;
}

/** Runs one planned operation on the open transaction; on failure rolls back and names it (`asGatewayError` maps database errors). */
async function runOperation(
  session: Session,
  op: PlannedOp,
  index: number,
  deadline: number,
  asGatewayError: (err: unknown) => GatewayError,
): Promise<OpResult> {
  try {
    const answers = [];
    for (const st of [op.count, op.main]) if (st) answers.push(await run(session, st));
    return opResult(op, answers);
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw operationError(err instanceof GatewayError ? err : asGatewayError(err), { index, op }, 0, deadline);
  }
}
