/**
 * Per-request Neon sessions. workerd forbids sharing I/O objects across requests, so a session is
 * opened inside one request (under a budget permit) and closed before or with it; never cached.
 */
import { Client } from '@neondatabase/serverless';

export type SessionOptions = {
  statementTimeoutMs: number;
  /** `host:port` of a local WebSocket→TCP proxy (dev and tests); unset in production. */
  localWsProxy?: string | undefined;
};

export type Session = {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  /** Ends the connection; safe to call twice, never throws. */
  close(): Promise<void>;
};

/** Opens and connects a session; throws the driver's error when the database is unreachable. */
export async function openSession(databaseUrl: string, opts: SessionOptions): Promise<Session> {
  const client = new Client({ connectionString: databaseUrl, statement_timeout: opts.statementTimeoutMs });
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
  await client.connect();
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
