/**
 * A local stand-in for Neon's wsproxy: the Neon driver opens `ws://<proxy>/v1?address=host:port`
 * and speaks the Postgres wire protocol in binary WebSocket frames; we pipe those bytes to TCP.
 * The same listener serves Neon's HTTP SQL endpoint at `http://<proxy>/sql`
 * (dev/neon-http-endpoint.ts). Only configured Postgres addresses are reachable (never an open
 * proxy). Like Neon's proxy it drops the startup parameters Neon drops, and it can add Neon's
 * distance: a round-trip time and a resume after idle, one compute behind both paths
 * (docs/configuration.md "Local stack").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { NEON_DROPPED_PARAMS } from './startup-packet.js';
import { createCompute, SETUP_ROUND_TRIPS } from './wire-delay.js';
import { bridge, type ConnectionStats, type Shaping } from './ws-bridge.js';
import { createSqlEndpoint, type SqlEndpoint, type SqlRequestStats } from './neon-http-endpoint.js';

export type WsProxyOptions = {
  port: number;
  host?: string;
  /** `host:port` pairs the proxy may connect to. `localhost` and 127.0.0.1 are treated alike. */
  allow: string[];
  onLog?: (line: string) => void;
  /** Startup parameters removed from every StartupMessage; default Neon's (`NEON_DROPPED_PARAMS`), `[]` forwards all. */
  dropStartupParams?: readonly string[];
  /** Round-trip time added to every connection (half each way, plus the set-up); default 0. */
  rttMs?: number;
  /** How long the first connection after `idleMs` without sessions waits (a resume); default 0. */
  coldStartMs?: number;
  /** Sessions-free time after which the next connection resumes the compute; default 300000. */
  idleMs?: number;
  /** Told once per proxied connection, when it has closed. */
  onConnectionEnd?: (stats: ConnectionStats) => void;
  /** Told once per request to the HTTP SQL endpoint, when it has ended. */
  onSqlRequestEnd?: (stats: SqlRequestStats) => void;
  /** Postgres connections the HTTP SQL endpoint keeps per role and database; default 64. */
  sqlPoolMax?: number;
};

export type WsProxy = {
  port: number;
  /** `127.0.0.1:<port>`: the WebSocket path is `ws://<url>/v1`, the HTTP SQL endpoint `http://<url>/sql`. */
  url: string;
  /** `http://127.0.0.1:<port>/sql`. */
  sqlUrl: string;
  connections(): number;
  close(): Promise<void>;
};

const normalise = (address: string) =>
  address
    .trim()
    .toLowerCase()
    .replace(/^localhost:/, '127.0.0.1:');

export function startWsProxy(opts: WsProxyOptions): Promise<WsProxy> {
  const allowed = new Set(opts.allow.map(normalise));
  const rttMs = opts.rttMs ?? 0;
  const shaping = shapingOf(opts);
  const sql = createSqlEndpoint({
    allowed: (address) => allowed.has(normalise(address)),
    rttMs,
    compute: shaping.compute,
    poolMax: opts.sqlPoolMax ?? 64,
    log: shaping.log,
    onRequestEnd: opts.onSqlRequestEnd ?? (() => undefined),
  });
  const http = listener(sql);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // The set-up a real connection pays (TCP, TLS, upgrade) before the client may send anything.
  http.on('upgrade', (req, socket, head) => {
    const upgrade = () => {
      if (!socket.destroyed) wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    };
    if (rttMs > 0) setTimeout(upgrade, SETUP_ROUND_TRIPS * rttMs);
    else upgrade();
  });
  const open = new Set<WebSocket>();

  wss.on('connection', (ws: WebSocket, req: { url?: string }) => {
    const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    if (!allowed.has(normalise(address))) {
      shaping.log(`refused connection to ${address || '(none)'}: not an allowed Postgres address`);
      ws.close(1008, 'address not allowed');
      return;
    }
    open.add(ws);
    bridge(ws, normalise(address), shaping, rttMs > 0 ? SETUP_ROUND_TRIPS : 0, () => open.delete(ws));
  });

  return listen(http, opts, { connections: () => open.size, close: () => closeAll(open, wss, http, sql) });
}

/** What every connection shares, from the options and their defaults. */
function shapingOf(opts: WsProxyOptions): Shaping {
  return {
    drop: new Set(opts.dropStartupParams ?? NEON_DROPPED_PARAMS),
    oneWayMs: (opts.rttMs ?? 0) / 2,
    compute: createCompute({ coldStartMs: opts.coldStartMs ?? 0, idleMs: opts.idleMs ?? 300_000 }),
    onEnd: opts.onConnectionEnd ?? (() => undefined),
    log: opts.onLog ?? (() => undefined),
  };
}

/** Starts listening on `opts.port` (0: any free port) and answers the proxy once it is bound. */
function listen(http: Server, opts: WsProxyOptions, parts: Pick<WsProxy, 'connections' | 'close'>): Promise<WsProxy> {
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      const addr = http.address();
      const port = addr && typeof addr === 'object' ? addr.port : opts.port;
      resolve({ port, url: `127.0.0.1:${port}`, sqlUrl: `http://127.0.0.1:${port}/sql`, ...parts });
    });
  });
}

/** Cuts the open WebSockets, then closes the WebSocket server, the listener and the SQL endpoint. */
async function closeAll(open: Set<WebSocket>, wss: WebSocketServer, http: Server, sql: SqlEndpoint): Promise<void> {
  for (const ws of open) ws.terminate();
  await new Promise<void>((done) =>
    wss.close(() => {
      http.close(() => done());
      // Kept-alive HTTP connections would hold the close open.
      http.closeAllConnections();
    }),
  );
  await sql.close();
}

/** The listener; requests that are no WebSocket upgrade go to the SQL endpoint at `/sql`, 426 elsewhere. */
function listener(sql: SqlEndpoint): Server {
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://proxy').pathname === '/sql') sql.handle(req, res);
    else res.writeHead(426, { 'content-type': 'text/plain' }).end('websocket upgrade required\n');
  });
  // Neon's endpoint keeps an idle HTTP connection for as long as the client does (Node's default
  // closes it after 5 s, which would make a client pay the set-up again, or reset a request sent on it).
  http.keepAliveTimeout = 0;
  return http;
}
