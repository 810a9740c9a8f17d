/**
 * Disconnect cancellation against the served worker, as production serves it: the deploy bundle
 * in `workerd serve` (`enable_request_signal`), reached over raw TCP. DB_POOL_MAX=1: one lookup
 * holds the only permit, blocked on a locked `api_keys`; K requests with fresh keys (K clients, so
 * K lookups) queue for the permit; their clients reset the connection (TCP RST — workerd fires
 * `request.signal` on a reset, not on a quiet close). Then: the budget's `cancelled` counter rose by
 * K, nobody is left waiting, the reset requests ran no key lookup (pg_stat_statements), and a
 * normal request still answers 200. And a request reset while it holds the permit (its lookup
 * blocked) cancels the lookup on the server from its abort event and only then gives the permit
 * back, long before DB_PERMIT_LEASE_MS and the 20 s lookup timeout.
 * (wrangler's dev server is not used here: its proxy in front of the worker drops a disconnected
 * request without firing its signal.)
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorkerd, type Workerd } from '../../bench/workerd.js';
import { freePort } from '../../dev/ports.js';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { queryOnce } from '../support/query-once.js';
import { createNodeSandbox, type NodeSandbox } from '../support/auth-sandbox.js';

const KEY_QUERIES = '%from api_keys where key_hash%';
const K = 6;

let box: NodeSandbox;
let server: Workerd;

beforeAll(async () => {
  box = await createNodeSandbox(inject('databaseUrl'), inject('adminDatabaseUrl'));
  server = await startWorkerd(
    inject('workerBundle'),
    await freePort(),
    {
      // The cancel path of WebSocket sessions (cancel requests); the HTTP path's abort: test/worker/http-transport.test.ts.
      DB_TRANSPORT: 'ws',
      DATABASE_URL: inject('databaseUrl'),
      AUTH_DATABASE_URL: box.url,
      NEON_LOCAL_WS_PROXY: inject('wsProxy'),
      STATS_SINK: 'direct',
      FLUSHER_URL: '',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
      DB_POOL_MAX: '1',
      DB_ACQUIRE_TIMEOUT_MS: '20000',
      AUTH_LOOKUP_TIMEOUT_MS: '20000',
      AUTH_DIRECTORY_RECHECK_MS: '0',
      DB_PERMIT_LEASE_MS: '120000', // far beyond the test: only the abort can give a permit back
    },
    'workerd-cancel',
  );
});

afterAll(async () => {
  await server?.stop();
  await box?.drop();
});

type Budgets = { waiting: number; cancelled: number; timeouts: number; inUse: number };

/** Budget counters summed over every target (the auth sandbox shares its label with the main database). */
async function budgets(): Promise<Budgets> {
  const res = await fetch(`${server.url}/__gateway/status`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  const body = (await res.json()) as { budgets: Budgets[] };
  const sum = (k: keyof Budgets) => body.budgets.reduce((n, b) => n + b[k], 0);
  return { waiting: sum('waiting'), cancelled: sum('cancelled'), timeouts: sum('timeouts'), inUse: sum('inUse') };
}

/** Sessions of the sandbox role waiting on a lock: lookups that got their permit and session. */
async function lockWaiters(): Promise<number> {
  const rows = await queryOnce<{ n: number }>(
    inject('adminDatabaseUrl'),
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`,
    [box.role],
  );
  return rows[0]?.n ?? 0;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends a verify on a raw socket and returns it unread, to be reset later. */
function openVerify(client: string, key: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET /v1/auth/verify HTTP/1.1\r\nHost: gateway\r\nx-athena-client: ${client}\r\nx-athena-key: ${key}\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const verify = (c: { client: string; key: string }) =>
  fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': c.client, 'x-athena-key': c.key } });

describe('served worker: disconnect cancellation', () => {
  it(`${K} queued requests whose clients reset the connection leave the queue as cancelled and run no lookup`, async () => {
    const holder = await box.clientWithKey();
    const queued = await Promise.all(Array.from({ length: K }, () => box.clientWithKey()));
    const warm = await box.clientWithKey(); // every client above is in the directory it loads
    expect((await verify(warm)).status).toBe(200);
    const before = { budgets: await budgets(), keys: await box.calls(KEY_QUERIES) };

    const lock = await box.lock('api_keys');
    let held: Promise<Response> | undefined;
    try {
      held = verify(holder); // takes the only permit, then blocks on the lock
      await until(async () => (await lockWaiters()) === 1, 'the holder blocked on the lock');
      const sockets = await Promise.all(queued.map((q) => openVerify(q.client, q.key)));
      await until(async () => (await budgets()).waiting === K, `${K} waiting for the permit`);
      for (const s of sockets) s.resetAndDestroy();
      await until(async () => (await budgets()).waiting === 0, 'the queue empties');
      const after = await budgets();
      expect({ cancelled: after.cancelled - before.budgets.cancelled, timeouts: after.timeouts - before.budgets.timeouts }).toEqual({
        cancelled: K,
        timeouts: 0,
      });
      expect(await lockWaiters()).toBe(1); // the holder still has the permit
    } finally {
      await lock.release();
    }
    expect((await held)?.status).toBe(200);
    expect((await box.calls(KEY_QUERIES)) - before.keys).toBe(1); // the holder's lookup only
    const [again] = queued;
    if (!again) throw new Error('seeded');
    expect((await verify(again)).status).toBe(200); // a normal request afterwards
    expect((await box.calls(KEY_QUERIES)) - before.keys).toBe(2);
  });

  it('a request whose client resets while it holds the permit cancels its lookup on the server, then gives the permit back', async () => {
    const holder = await box.clientWithKey();
    const next = await box.clientWithKey();
    const warm = await box.clientWithKey();
    expect((await verify(warm)).status).toBe(200);
    const lock = await box.lock('api_keys');
    try {
      const socket = await openVerify(holder.client, holder.key); // takes the only permit, then blocks
      await until(async () => (await lockWaiters()) >= 1, 'the holder blocked on the lock');
      expect((await budgets()).inUse).toBe(1);
      socket.resetAndDestroy();
      // Never a free permit while its backend still waits: when the permit is back, the lookup is gone.
      let freedWhileRunning = false;
      await until(
        async () => {
          const waiters = await lockWaiters();
          const free = (await budgets()).inUse === 0;
          if (free && waiters > 0 && (await lockWaiters()) > 0) freedWhileRunning = true;
          return free;
        },
        'the permit is back',
        10_000,
      );
      expect(freedWhileRunning).toBe(false);
      expect(await lockWaiters()).toBe(0); // the lock is still held: the lookup was cancelled, not finished
    } finally {
      await lock.release();
    }
    expect((await verify(next)).status).toBe(200); // the permit serves the next request
  });
});
