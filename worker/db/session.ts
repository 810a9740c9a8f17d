/**
 * Per-request Neon sessions. workerd forbids sharing I/O objects across requests, so a session is
 * opened inside one request (under a budget permit) and closed before or with it; never cached.
 */
import { Client } from '@neondatabase/serverless';
import { BoundedQuery, isControl, type DriverQuery, type StatementBounds } from './bounded-query.js';
import { sendCancel } from './cancel.js';
import { newClient } from './client.js';
import { BatchStatementError, beginText, type Batch, type BatchResult } from './batch.js';

export type SessionOptions = {
  /** Every statement's `statement_timeout`, put in force by the server per statement (bounded-query.ts). */
  statementTimeoutMs: number;
  /** Every statement's `lock_timeout`; unset = the statement timeout. */
  lockTimeoutMs?: number | undefined;
  /** Gives up connecting after this long (the connection is then ended); unset = no limit. */
  connectTimeoutMs?: number | undefined;
  /** `host:port` of a local WebSocket→TCP proxy (dev and tests); unset in production. */
  localWsProxy?: string | undefined;
  /** Told when the server accepts the startup: the database is up, whatever the first statement then waits on. */
  onAccepted?: (() => void) | undefined;
};

export type Session = {
  /** Runs one statement under the session's bounds (transaction control as sent: bounded-query.ts). */
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  /**
   * Runs `batch` as one transaction (batch.ts): its results in order, or `BatchStatementError` once
   * it was rolled back for a statement's error. Other errors (the connection lost during COMMIT,
   * say) leave the outcome unknown and pass through as they came.
   */
  batch(batch: Batch): Promise<BatchResult[]>;
  /** The same session, its statements also ended by the server at `deadline` (epoch ms): a transaction's whole budget. */
  until(deadline: number): Session;
  /** Ends the connection; safe to call twice, never throws. */
  close(): Promise<void>;
  /** Asks the server to cancel the statement running now, if any (a cancel request); the connection stays. Never throws. */
  cancel(): Promise<void>;
  /**
   * Gives up on the session: asks the server to cancel what runs (a cancel request), and ends the
   * connection (which the backend also notices: bounded-query.ts). Resolves once both are done or
   * have failed, never throws. Safe to call twice and after `close`.
   */
  abort(): Promise<void>;
};

/** The driver's query class: parses rows with the client's type parsers (not exported by name). */
const DriverQueryClass = (
  Client as unknown as { Query: new (text: string, values: unknown[] | undefined, cb: (err: unknown, res: QueryResult) => void) => DriverQuery }
).Query;

type QueryResult = { rows: Record<string, unknown>[]; rowCount: number | null };

/** The connect attempt outlived `connectTimeoutMs`. */
class ConnectTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`connect timed out after ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

/**
 * The database never accepted the session's startup (unreachable, refused, wrong password, or no
 * answer within `connectTimeoutMs`): surfaced by the first query, since startup and that query
 * leave together. Carries no SQLSTATE of its own: it is not the query's error.
 */
export class SessionConnectError extends Error {
  constructor(cause: unknown) {
    super(`session startup failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'SessionConnectError';
  }
}

/**
 * Opens a session. Startup, password and the first query are pipelined (the driver's
 * `pipelineConnect: 'password'`, as with Neon): one round trip instead of three, so `connect()`
 * only waits for the socket and the first query hears whether the startup was accepted. Throws the
 * driver's error when the socket cannot be opened, or `ConnectTimeoutError`; the first query throws
 * `SessionConnectError` when the startup fails. No timeout travels as a startup parameter (Neon's
 * proxy drops them): each statement carries its own (bounded-query.ts).
 */
export async function openSession(databaseUrl: string, opts: SessionOptions): Promise<Session> {
  const client = newClient(databaseUrl, opts.localWsProxy);
  // An unreachable proxy/DB surfaces as an 'error' event; without a listener it would be unhandled.
  client.on('error', () => undefined);
  const deadline = startupDeadline(opts.connectTimeoutMs);
  let accepted = false; // the server answered the startup with AuthenticationOk
  let refused = false; // an error message or a closed connection came first
  const conn = client.connection;
  conn.once('authenticationOk', () => {
    accepted = true;
    deadline?.clear();
    opts.onAccepted?.();
  });
  conn.once('errorMessage', () => (refused ||= !accepted));
  let ended = false; // the connection is gone (closed by us, the server, or the network)
  conn.once('end', () => {
    ended = true;
    refused ||= !accepted;
  });
  try {
    await connectWithin(client, deadline);
  } catch (err) {
    deadline?.clear();
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    deadline?.clear();
    // A dead connection has nothing left to end: the driver would wait for an 'end' that already
    // came (never settling) or write Terminate to a closed WebSocket ("send() after close()").
    return (closed ??= ended ? Promise.resolve() : client.end().catch(() => undefined));
  };
  const cancel = (): Promise<void> => sendCancel(client, databaseUrl, opts.localWsProxy, opts.connectTimeoutMs);
  let aborted: Promise<void> | undefined;
  const abort = (): Promise<void> => (aborted ??= Promise.all([cancel(), close()]).then(() => undefined));
  const base: StatementBounds = { statementTimeoutMs: opts.statementTimeoutMs, lockTimeoutMs: opts.lockTimeoutMs ?? opts.statementTimeoutMs };
  const send = (text: string, params: unknown[] | undefined, bounds: StatementBounds): Promise<QueryResult> =>
    isControl(text) ? client.query(text, params) : boundedQuery(client, text, params, bounds);
  const run = async (text: string, params: unknown[] | undefined, bounds: StatementBounds): Promise<QueryResult> => {
    if (accepted) return rowsOf(await send(text, params, bounds));
    try {
      const answered = send(text, params, bounds);
      return rowsOf(await (deadline ? Promise.race([answered, deadline.expired]) : answered));
    } catch (err) {
      // Anything else (a value that cannot be bound, say) is the query's own error.
      if (accepted || !(refused || err instanceof ConnectTimeoutError)) throw err;
      void close();
      throw new SessionConnectError(err);
    }
  };
  const view = (boundsNow: () => StatementBounds): Session => ({
    query: (text, params) => run(text, params, boundsNow()) as never,
    batch: (b) => runBatch((text, params) => run(text, params, boundsNow()), b),
    until: (at) => view(() => within(boundsNow(), at - Date.now())),
    close,
    cancel,
    abort,
  });
  return view(() => base);
}

/** BEGIN, each statement, COMMIT: a failing statement rolls back and is named by its position. */
async function runBatch(query: (text: string, params?: unknown[]) => Promise<BatchResult>, { statements, mode }: Batch): Promise<BatchResult[]> {
  await query(beginText(mode));
  const results: BatchResult[] = [];
  for (const [i, st] of statements.entries()) {
    try {
      results.push(await query(st.text, st.params));
    } catch (err) {
      await query('ROLLBACK').catch(() => undefined);
      throw new BatchStatementError(i, err);
    }
  }
  await query('COMMIT');
  return results;
}

/** `b` cut to `remainingMs` (at least 1 ms: the server then ends the statement at once). */
export const within = (b: StatementBounds, remainingMs: number): StatementBounds => ({
  statementTimeoutMs: Math.max(1, Math.min(b.statementTimeoutMs, remainingMs)),
  lockTimeoutMs: Math.max(1, Math.min(b.lockTimeoutMs, remainingMs)),
});

/** One statement with its bounds in the same batch (bounded-query.ts); settles with the driver's result. */
function boundedQuery(client: Client, text: string, params: unknown[] | undefined, bounds: StatementBounds): Promise<QueryResult> {
  return new Promise((resolve, reject) => {
    const inner = new DriverQueryClass(text, params, (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)));
    client.query(new BoundedQuery(inner, bounds) as never);
  });
}

const rowsOf = <R>(res: { rows: R[]; rowCount: number | null }) => ({ rows: res.rows, rowCount: res.rowCount });

/** One timer of the request's own for the whole startup: the socket, then the server's answer. */
type StartupDeadline = { expired: Promise<never>; clear(): void };

function startupDeadline(timeoutMs: number | undefined): StartupDeadline | undefined {
  if (timeoutMs === undefined) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(timeoutMs)), timeoutMs);
  });
  expired.catch(() => undefined); // raced by whoever waits on the startup; maybe nobody
  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
  };
  return { expired, clear };
}

/**
 * `client.connect()` raced against the startup deadline. On timeout the connection is ended once
 * the attempt settles (ending it mid-handshake makes the driver write to a closed socket).
 */
async function connectWithin(client: Client, deadline: StartupDeadline | undefined): Promise<void> {
  const connecting = client.connect();
  if (!deadline) return connecting;
  try {
    await Promise.race([connecting, deadline.expired]);
  } catch (err) {
    if (err instanceof ConnectTimeoutError) void connecting.then(() => client.end()).catch(() => undefined);
    throw err;
  }
}
