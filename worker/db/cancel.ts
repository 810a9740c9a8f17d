/**
 * Postgres cancel requests through the same path as the session (the WebSocket proxy): a second
 * connection whose only message is CancelRequest(backend pid, secret key); the server interrupts
 * whatever that backend runs and closes the connection. Best effort: a proxy that does not pass
 * cancel requests leaves it to the closed session socket and the statement timeout
 * (docs/architecture.md "Server-side timeouts").
 */
import type { Client } from '@neondatabase/serverless';
import { newClient } from './client.js';

/** The driver's connection as used here (not in its public types). */
type RawConnection = {
  ssl: unknown;
  connect(port: number, host: string): void;
  cancel(processId: number, secretKey: number): void;
  on(event: 'connect' | 'end' | 'error', fn: () => void): void;
  end(): void;
};

/** What the driver keeps about the session's backend once the startup was answered. */
type BackendKey = { processID?: number | null; secretKey?: number | null; activeQuery?: unknown };

/** Upper bound on the whole cancel request when no connect timeout is configured. */
const DEFAULT_CANCEL_TIMEOUT_MS = 2000;

/**
 * Asks the server to cancel the statement `client` runs now, if any. Resolves once the server has
 * closed the cancel connection, it failed, or `timeoutMs` passed; never throws.
 */
export function sendCancel(client: Client, databaseUrl: string, localWsProxy: string | undefined, timeoutMs = DEFAULT_CANCEL_TIMEOUT_MS): Promise<void> {
  const key = client as unknown as BackendKey;
  const { processID, secretKey } = key;
  if (!key.activeQuery || typeof processID !== 'number' || typeof secretKey !== 'number') return Promise.resolve();
  const canceller = newClient(databaseUrl, localWsProxy);
  const conn = canceller.connection as unknown as RawConnection;
  // As the driver's own connect does: TLS is the WebSocket's, not the Postgres protocol's.
  if (canceller.neonConfig.forceDisablePgSSL) conn.ssl = false;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      try {
        conn.end();
      } catch {
        // already closed
      }
      resolve();
    }
    conn.on('error', done);
    conn.on('end', done);
    conn.on('connect', () => conn.cancel(processID, secretKey));
    try {
      conn.connect(canceller.port, canceller.host);
    } catch {
      done();
    }
  });
}
