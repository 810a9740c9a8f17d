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
 * Opens and connects a session; throws the driver's error when the database is unreachable, or
 * `ConnectTimeoutError`. Both timeouts travel as startup parameters: no extra round trip.
 */
export async function openSession(databaseUrl: string, opts: SessionOptions): Promise<Session> {
  const client = new Client({ connectionString: databaseUrl, statement_timeout: opts.statementTimeoutMs, lock_timeout: opts.lockTimeoutMs });
  if (opts.localWsProxy) {
    const proxy = opts.localWsProxy;
    client.neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineConnect = false;
    client.neonConfig.pipelineTLS = false;
    client.neonConfig.forceDisablePgSSL = true;
  }
  // An unreachable proxy/DB surfaces as an 'error' event; without a listener it would be unhandled.
  client.on('error', () => undefined);
  await connectWithin(client, opts.connectTimeoutMs);
  let closed: Promise<void> | undefined;
  return {
    async query(text, params) {
      const res = await client.query(text, params);
      return { rows: res.rows, rowCount: res.rowCount };
    },
    close() {
      closed ??= client.end().catch(() => undefined);
      return closed;
    },
  };
}

/**
 * `client.connect()` raced against a timer of this request's own. On timeout the connection is
 * ended once the attempt settles (ending it mid-handshake makes the driver write to a closed socket).
 */
async function connectWithin(client: Client, timeoutMs: number | undefined): Promise<void> {
  if (timeoutMs === undefined) return client.connect();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const connecting = client.connect();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([connecting, expired]);
  } catch (err) {
    if (err instanceof ConnectTimeoutError) void connecting.then(() => client.end()).catch(() => undefined);
    throw err;
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
