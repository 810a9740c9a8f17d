/**
 * What one session costs on the wire, seen from a WebSocket→TCP proxy in front of the real
 * Postgres: the worker (served over HTTP, in workerd) sends startup, password and its first query
 * in one flight, before the server has said anything: one round trip instead of three. (A refused
 * startup is still a connect failure: test/worker/with-session.test.ts.)
 */
import { createServer, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocketServer, type RawData } from 'ws';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';

/** One proxied connection: what the client sent before the server's first byte, and its flights. */
type Wire = { firstFlight: Buffer; flights: number };

function toBuffer(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** A proxy to `host:port` that records, per connection, the client's flights (sends after a server answer). */
async function recordingProxy(host: string, port: number): Promise<{ address: string; wires: Wire[]; server: Server }> {
  const wires: Wire[] = [];
  const server = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const wire: Wire = { firstFlight: Buffer.alloc(0), flights: 0 };
    wires.push(wire);
    let serverSpoke = false;
    let lastFromServer = true;
    const tcp = createConnection({ host, port });
    const pending: Buffer[] = [];
    tcp.on('connect', () => pending.splice(0).forEach((b) => tcp.write(b)));
    ws.on('message', (data) => {
      const buf = toBuffer(data);
      if (!serverSpoke) wire.firstFlight = Buffer.concat([wire.firstFlight, buf]);
      if (lastFromServer) wire.flights++;
      lastFromServer = false;
      if (tcp.connecting) pending.push(buf);
      else tcp.write(buf);
    });
    tcp.on('data', (chunk) => {
      serverSpoke = true;
      lastFromServer = true;
      if (ws.readyState === ws.OPEN) ws.send(chunk);
    });
    const close = () => {
      tcp.destroy();
      ws.close();
    };
    tcp.on('close', close);
    tcp.on('error', close);
    ws.on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { address: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, wires, server };
}

const READY_SQL = 'SELECT now()::text AS now';
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let worker: WorkerServer;

beforeAll(async () => {
  const db = new URL(inject('databaseUrl'));
  proxy = await recordingProxy(db.hostname, Number(db.port || 5432));
  const vars = { NEON_LOCAL_WS_PROXY: proxy.address, STATS_SINK: 'direct', FLUSHER_URL: '', KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET, REQUEST_LOG: 'off', ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  worker = await startWorkerServer({ ...vars, DATABASE_URL: db.toString() });
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await new Promise((resolve) => proxy?.server.close(resolve));
});

describe('a session on the wire', () => {
  it('startup, password and the first query leave in one flight: one round trip, then only the Terminate', async () => {
    for (let i = 0; i < 5; i++) {
      // The token is set here: a local .dev.vars (written by `npm run dev`) would otherwise set one.
      const res = await fetch(`${worker.url}/__gateway/ready`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ready' });
    }
    await new Promise((r) => setTimeout(r, 300)); // the sessions close after the response
    const ready = proxy.wires.filter((w) => w.firstFlight.includes(READY_SQL));
    expect(ready).toHaveLength(5);
    for (const w of ready) {
      // The query went out before the server's first byte; the only later flight is the Terminate.
      expect(w.flights).toBeLessThanOrEqual(2);
    }
  });
});
