/** The one place the Neon driver is configured: WebSocket clients (sessions, cancel requests) and the HTTP endpoint. */
import { Client, neonConfig } from '@neondatabase/serverless';

/** The driver's own choice of HTTP endpoint (Neon's, derived from the database host). */
const NEON_FETCH_ENDPOINT = neonConfig.fetchEndpoint;

/**
 * Points the driver's HTTP queries at the local proxy's `/sql` when one is set (dev and tests: the
 * same `host:port` that serves the WebSocket path), else at Neon's endpoint for the database host.
 * The driver keeps this setting globally, not per query; it is plain data from the isolate's
 * settings, the same for every request of the isolate.
 */
export function useFetchEndpoint(localWsProxy: string | undefined): void {
  neonConfig.fetchEndpoint = localWsProxy ? `http://${localWsProxy}/sql` : NEON_FETCH_ENDPOINT;
}

/** A driver client for `databaseUrl`, through the local WebSocket proxy when one is set (dev and tests). */
export function newClient(databaseUrl: string, localWsProxy: string | undefined): Client {
  const client = new Client({ connectionString: databaseUrl });
  if (localWsProxy) {
    client.neonConfig.wsProxy = (host, port) => `${localWsProxy}/v1?address=${host}:${port}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineTLS = false;
    client.neonConfig.forceDisablePgSSL = true;
  }
  client.neonConfig.webSocketConstructor = QuietWebSocket as unknown as typeof WebSocket;
  return client;
}

/**
 * The driver coalesces writes into a timer and sends without checking the socket: when the
 * database or proxy closes the connection first (Postgres down, unreachable), that send throws an
 * uncaught "send() after close()". A frame for a closed socket has nowhere to go; the driver still
 * hears the close and fails the session's queries.
 */
class QuietWebSocket extends WebSocket {
  override send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState === WebSocket.OPEN) super.send(data);
  }
}
