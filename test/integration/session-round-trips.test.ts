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
import { queryOnce } from '../support/query-once.js';
import { createNodeSandbox, type NodeSandbox } from '../support/auth-sandbox.js';

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
    tcp.on('connect', () => {
      for (const b of pending.splice(0)) tcp.write(b);
    });
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
let box: NodeSandbox;
const items = `rt_items_${Date.now().toString(36)}`;

beforeAll(async () => {
  const db = new URL(inject('databaseUrl'));
  proxy = await recordingProxy(db.hostname, Number(db.port || 5432));
  box = await createNodeSandbox(inject('databaseUrl'), inject('adminDatabaseUrl'));
  await queryOnce(db.toString(), `CREATE TABLE ${items} (id int PRIMARY KEY, label text)`);
  await queryOnce(db.toString(), `INSERT INTO ${items} VALUES (1, 'one')`);
  // Counters never due and no request log: only the request's own sessions reach the proxy.
  const vars = {
    NEON_LOCAL_WS_PROXY: proxy.address,
    STATS_SINK: 'direct',
    STATS_FLUSH_INTERVAL_MS: '600000',
    FLUSHER_URL: '',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
    REQUEST_LOG: 'off',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  };
  // TENANT_DATABASE_URL pinned too: a .dev.vars left by `npm run dev` names the stopped dev stack's, which ready checks.
  worker = await startWorkerServer({
    ...vars,
    DATABASE_URL: db.toString(),
    TENANT_DATABASE_URL: db.toString(),
    AUTH_DATABASE_URL: box.url,
    AUTH_DIRECTORY_RECHECK_MS: '0',
  });
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await new Promise((resolve) => proxy?.server.close(resolve));
  await queryOnce(inject('databaseUrl'), `DROP TABLE IF EXISTS ${items}`).catch(() => undefined);
  await box?.drop();
});

/** Round trips of the sessions one request opened: each connection's flights but its closing Terminate. */
async function roundTripsOf(request: () => Promise<Response>): Promise<{ status: number; connections: number; roundTrips: number[] }> {
  const before = proxy.wires.length;
  const res = await request();
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 300)); // the sessions close after the response
  const wires = proxy.wires.slice(before);
  return { status: res.status, connections: wires.length, roundTrips: wires.map((w) => w.flights - 1) };
}

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
    expect(ready).toHaveLength(5 * 2); // each ready checks both targets: the auth sandbox and DATABASE_URL
    for (const w of ready) {
      // The query went out before the server's first byte; the only later flight is the Terminate.
      expect(w.flights).toBeLessThanOrEqual(2);
      // No timeout travels as a startup parameter (Neon drops them): the statement sets its own.
      expect(w.firstFlight.includes('statement_timeout\0')).toBe(false);
      expect(w.firstFlight.includes('lock_timeout\0')).toBe(false);
      expect(w.firstFlight.toString('latin1')).toContain("set_config('statement_timeout'");
    }
  });
});

describe('round trips per request, each statement carrying its own timeouts', () => {
  it('a fresh key pays one round trip per auth session; a cached verify fetch one on one tenant session', async () => {
    const { client, key } = await box.clientWithKey();
    const fetchItems = () =>
      fetch(`${worker.url}/gateway/fetch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key },
        body: JSON.stringify({ table_name: items, columns: ['id', 'label'] }),
      });
    const fresh = await roundTripsOf(fetchItems);
    const cached = await roundTripsOf(fetchItems);
    console.log(`round trips: fresh key ${JSON.stringify(fresh)}, cached verify ${JSON.stringify(cached)}`);
    expect(fresh.status).toBe(200);
    expect(cached.status).toBe(200);
    // Cached key and catalog: the tenant session's startup and its one statement, in one flight.
    expect(cached).toEqual({ status: 200, connections: 1, roundTrips: [1] });
    // Fresh: the directory load and key lookup (auth) and the tenant's catalog load, each a session
    // whose statement leaves with its startup; the tenant session then runs the fetch itself.
    for (const n of fresh.roundTrips) expect(n).toBeLessThanOrEqual(2);
  });
});
