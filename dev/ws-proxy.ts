/**
 * A local stand-in for Neon's wsproxy: the Neon driver opens `ws://<proxy>/v1?address=host:port`
 * and speaks the Postgres wire protocol in binary WebSocket frames; we pipe those bytes to TCP.
 * Only configured Postgres addresses are reachable (never an open proxy).
 */
import { createConnection, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';

export type WsProxyOptions = {
  port: number;
  host?: string;
  /** `host:port` pairs the proxy may connect to. `localhost` and 127.0.0.1 are treated alike. */
  allow: string[];
  onLog?: (line: string) => void;
};

export type WsProxy = { port: number; url: string; connections(): number; close(): Promise<void> };

const normalise = (address: string) => address.trim().toLowerCase().replace(/^localhost:/, '127.0.0.1:');

export function startWsProxy(opts: WsProxyOptions): Promise<WsProxy> {
  const allowed = new Set(opts.allow.map(normalise));
  const log = opts.onLog ?? (() => undefined);
  const http: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('websocket upgrade required\n');
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const open = new Set<WebSocket>();

  wss.on('connection', (ws, req) => {
    const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    if (!allowed.has(normalise(address))) {
      log(`refused connection to ${address || '(none)'}: not an allowed Postgres address`);
      ws.close(1008, 'address not allowed');
      return;
    }
    open.add(ws);
    bridge(ws, normalise(address), () => open.delete(ws), log);
  });

  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      const addr = http.address();
      const port = addr && typeof addr === 'object' ? addr.port : opts.port;
      resolve({
        port,
        url: `127.0.0.1:${port}`,
        connections: () => open.size,
        close: () =>
          new Promise<void>((done) => {
            for (const ws of open) ws.terminate();
            wss.close(() => http.close(() => done()));
          }),
      });
    });
  });
}

/** Pipes one WebSocket to a TCP connection to `address`, both ways; either side closing closes both. */
function bridge(ws: WebSocket, address: string, onClose: () => void, log: (line: string) => void): void {
  const [host, port] = splitAddress(address);
  const tcp: Socket = createConnection({ host, port });
  tcp.setNoDelay(true);
  const pending: Buffer[] = [];
  let connected = false;

  ws.on('message', (data: RawData) => {
    const buf = toBuffer(data);
    if (connected) tcp.write(buf);
    else pending.push(buf);
  });
  tcp.on('connect', () => {
    connected = true;
    for (const buf of pending.splice(0)) tcp.write(buf);
  });
  tcp.on('data', (chunk) => ws.readyState === ws.OPEN && ws.send(chunk));
  const closeBoth = () => {
    onClose();
    if (!tcp.destroyed) tcp.end();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
  };
  tcp.on('close', closeBoth);
  tcp.on('error', (err) => {
    log(`tcp error to ${address}: ${err.message}`);
    tcp.destroy();
    closeBoth();
  });
  ws.on('close', closeBoth);
  ws.on('error', () => closeBoth());
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
