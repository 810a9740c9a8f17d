/**
 * Per-request Neon sessions. workerd forbids sharing I/O objects across requests, so a session is
 * opened inside one request (under a budget permit) and closed before or with it; never cached.
 */
import { Client } from '@neondatabase/serverless';

export type SessionOptions = {
  statementTimeoutMs: number;
  /** `lock_timeout` of the session; unset = the server's (none). */
  lockTimeoutMs?: number | undefined;
  /** Gives up connecting after this long (the connection is then ended); unset = no limit. */
  connectTimeoutMs?: number | undefined;
  /** `host:port` of a local WebSocket→TCP proxy (dev and tests); unset in production. */
  localWsProxy?: string | undefined;
};

export type Session = {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  /** Ends the connection; safe to call twice, never throws. */
  close(): Promise<void>;
};

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
 * `SessionConnectError` when the startup fails. Both timeouts travel as startup parameters.
 */
export async function openSession(databaseUrl: string, opts: SessionOptions): Promise<Session> {
  const client = new Client({ connectionString: databaseUrl, statement_timeout: opts.statementTimeoutMs, lock_timeout: opts.lockTimeoutMs });
  if (opts.localWsProxy) {
    const proxy = opts.localWsProxy;
    client.neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineTLS = false;
    client.neonConfig.forceDisablePgSSL = true;
  }
  // An unreachable proxy/DB surfaces as an 'error' event; without a listener it would be unhandled.
  client.on('error', () => undefined);
  const deadline = startupDeadline(opts.connectTimeoutMs);
  let accepted = false; // the server answered the startup with AuthenticationOk
  let refused = false; // an error message or a closed connection came first
  const conn = client.connection;
  conn.once('authenticationOk', () => {
    accepted = true;
    deadline?.clear();
  });
  conn.once('errorMessage', () => (refused ||= !accepted));
  conn.once('end', () => (refused ||= !accepted));
  try {
    await connectWithin(client, deadline);
  } catch (err) {
    deadline?.clear();
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    deadline?.clear();
    return (closed ??= client.end().catch(() => undefined));
  };
  return {
    async query(text, params) {
      if (accepted) return rowsOf(await client.query(text, params));
      try {
        const answered = client.query(text, params);
        return rowsOf(await (deadline ? Promise.race([answered, deadline.expired]) : answered));
      } catch (err) {
        // Anything else (a value that cannot be bound, say) is the query's own error.
        if (accepted || !(refused || err instanceof ConnectTimeoutError)) throw err;
        void close();
        throw new SessionConnectError(err);
      }
    },
    close,
  };
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
