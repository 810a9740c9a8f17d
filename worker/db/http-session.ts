/**
 * Sessions over Neon's HTTP SQL endpoint (the driver's `neon()`): every statement, and every batch,
 * is one request and one round trip; the runtime keeps the connection to the endpoint warm, and
 * the endpoint keeps its Postgres connections warm. Each request carries its statement bounds
 * ahead of its statements in the same transaction (`set_config(…, true)`: bounded-query.ts), so the
 * server ends it at its timeouts exactly as on a WebSocket session. No interactive transaction:
 * BEGIN through COMMIT travels as one batch (batch.ts); a caller that needs a transaction held open
 * between its own round trips opens a WebSocket session instead (with-session.ts `interactive`).
 *
 * Created inside one request and never cached: its fetches and their abort controller belong to
 * that request (a promise another request settles would run its I/O in the wrong request).
 */
import { neon, type NeonQueryFunction } from '@neondatabase/serverless';
import { boundsStatement, isControl, type StatementBounds } from './bounded-query.js';
import { BatchStatementError, neonBatchOptions, type Batch, type BatchResult } from './batch.js';
import { useFetchEndpoint } from './client.js';
import { SessionConnectError, within, type Session, type SessionOptions } from './session.js';

/** The driver's result with `fullResults`: rows plus the command's row count. */
type FullResult = { rows: Record<string, unknown>[]; rowCount: number | null };

/** Opens a session: nothing travels until its first statement. */
export function openHttpSession(databaseUrl: string, opts: SessionOptions): Session {
  useFetchEndpoint(opts.localWsProxy);
  const sql = neon(databaseUrl, { fullResults: true });
  // Aborts every request of the session at once (the request gave up: abort / lease).
  const controller = new AbortController();
  // The session's requests, one after another as on a WebSocket session: its permit covers one
  // statement (or batch) in flight, never more.
  let last: Promise<unknown> = Promise.resolve();
  const settled = (): Promise<void> =>
    last.then(
      () => undefined,
      () => undefined,
    );

  const send = (statements: Batch['statements'], bounds: StatementBounds, mode: Batch['mode'], deadline?: number): Promise<BatchResult[]> => {
    const go = () => sendNow(sql, controller.signal, opts.connectTimeoutMs, { statements, bounds, mode, deadline });
    const next = last.then(go, go);
    last = next.catch(() => undefined);
    return next;
  };

  const view = (boundsNow: () => StatementBounds, deadline?: number): Session => ({
    async query(text, params) {
      if (isControl(text)) throw new Error(`transaction control is a batch over HTTP, not a statement: ${text.slice(0, 40)}`);
      try {
        const [res] = await send([{ text, params: params ?? [] }], boundsNow(), undefined);
        return res as never;
      } catch (err) {
        // Alone in its transaction: the statement's own error, as a WebSocket session reports it;
        // no answer at all is a failed connect, as a WebSocket startup that never got one.
        if (err instanceof BatchStatementError) throw err.cause;
        throw err instanceof SessionConnectError || controller.signal.aborted ? err : new SessionConnectError(err);
      }
    },
    batch: (b) => send(b.statements, boundsNow(), b.mode, deadline),
    until: (at) => view(() => within(boundsNow(), at - Date.now()), Math.min(at, deadline ?? at)),
    close: settled,
    cancel: async () => {
      controller.abort();
      await settled();
    },
    abort: async () => {
      controller.abort();
      await settled();
    },
  });
  const base: StatementBounds = { statementTimeoutMs: opts.statementTimeoutMs, lockTimeoutMs: opts.lockTimeoutMs ?? opts.statementTimeoutMs };
  return view(() => base);
}

type Sql = NeonQueryFunction<false, true>;

/** What one request carries: the bounds, then `statements`, under the batch's `deadline` when it has one. */
type Outgoing = { statements: Batch['statements']; bounds: StatementBounds; mode: Batch['mode']; deadline: number | undefined };

/**
 * One request: the bounds, then `statements`, in one transaction. `aborted` is the session's own
 * signal: the request gave up (its abort event or its lease).
 */
async function sendNow(sql: Sql, aborted: AbortSignal, connectTimeoutMs: number | undefined, r: Outgoing): Promise<BatchResult[]> {
  if (aborted.aborted) throw new SessionConnectError(new Error('session aborted'));
  // No answer within the connect timeout plus the statement's own bound: the path is gone (the
  // server has ended the statement by then); the fetch is aborted, as the caller's own abort would.
  const timeoutMs = connectTimeoutMs === undefined ? undefined : connectTimeoutMs + r.bounds.statementTimeoutMs;
  const signal = timeoutMs === undefined ? aborted : AbortSignal.any([aborted, AbortSignal.timeout(timeoutMs)]);
  const req = requestOf(sql, r.statements, r.bounds, r.deadline);
  try {
    return req.answers((await sql.transaction(req.queries, { ...neonBatchOptions(r.mode), fetchOptions: { signal } })) as unknown as FullResult[]);
  } catch (err) {
    throw classify(err);
  }
}

/**
 * One request's queries: the bounds, then the statements — under a deadline with more than one
 * statement, the deadline too and before each later statement its cut bounds — and how to pick the
 * statements' own answers out of the results.
 */
function requestOf(sql: Sql, statements: Batch['statements'], bounds: StatementBounds, deadline: number | undefined) {
  const queries = [sql.query(boundsStatement(bounds))];
  const paced = deadline !== undefined && statements.length > 1;
  if (paced) queries.push(sql.query(deadlineStatement(deadline - Date.now())));
  for (const [i, st] of statements.entries()) {
    if (paced && i > 0) queries.push(sql.query(reboundStatement(bounds)));
    queries.push(sql.query(st.text, st.params));
  }
  const answers = (results: FullResult[]): BatchResult[] =>
    (paced ? results.slice(2).filter((_, j) => j % 2 === 0) : results.slice(1)).map((r) => ({ rows: r.rows, rowCount: r.rowCount ?? null }));
  return { queries, answers };
}

/** The server-side clock's name for a batch's deadline, local to its transaction. */
const DEADLINE_SETTING = 'gateway.deadline';

/** Records the batch's deadline, `remainingMs` from now by the server's own clock (no clock skew). */
function deadlineStatement(remainingMs: number): string {
  const ms = Math.max(1, Math.ceil(remainingMs));
  return `SELECT pg_catalog.set_config('${DEADLINE_SETTING}', (pg_catalog.clock_timestamp() + make_interval(secs => ${ms} / 1000.0))::text, true)`;
}

/** Cuts the statement and lock timeouts to what is left of the batch's deadline (at least 1 ms, never above `b`). */
function reboundStatement(b: StatementBounds): string {
  const left = `greatest(1, ceil(extract(epoch FROM pg_catalog.current_setting('${DEADLINE_SETTING}')::timestamptz - pg_catalog.clock_timestamp()) * 1000))::bigint`;
  return (
    `SELECT pg_catalog.set_config('statement_timeout', least(${Math.ceil(b.statementTimeoutMs)}, ${left})::text, true), ` +
    `pg_catalog.set_config('lock_timeout', least(${Math.ceil(b.lockTimeoutMs)}, ${left})::text, true)`
  );
}

/**
 * What a failed request means. The server answered with a SQLSTATE: the transaction was rolled
 * back, by a statement's error (`BatchStatementError`, its position unknown) — unless the SQLSTATE
 * says the database could not be had (connection, authentication, no such database, starting up):
 * a failed connect, as on a WebSocket startup. No answer (network, endpoint down, timeout, our own
 * abort): the error as it came, since a batch sent may have committed (its caller decides).
 */
function classify(err: unknown): Error {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
    return CONNECT_STATES.test(code) ? new SessionConnectError(err) : new BatchStatementError(null, err);
  return err instanceof Error ? err : new Error(String(err));
}

/** SQLSTATEs that mean the database could not be had, not that a statement failed. */
const CONNECT_STATES = /^(08|28|3D000|57P03)/;
