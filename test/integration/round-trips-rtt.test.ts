/**
 * What each request pays in round trips to a database a region away, on each transport: the
 * worker, served over HTTP, reaches Postgres through the Neon-like proxy with a 40 ms round trip
 * (DEV_DB_RTT_MS=40), which counts on the wire every WebSocket session's round trips (DB_TRANSPORT=ws)
 * and every request to its HTTP SQL endpoint (DB_TRANSPORT=http). Per request kind: which trips to
 * which database, in sequence, and each one's round trips (set-up included). The table with the
 * reasons is in docs/performance.md "Round trips at a distance".
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WsProxy } from '../../dev/ws-proxy.js';
import type { WorkerServer } from '../support/worker-server.js';
import type { NodeSandbox } from '../support/auth-sandbox.js';
import { startDistantGateway, type DistantGateway } from '../support/distant-gateway.js';

const RTT_MS = 40;
const REPEATS = 3;

/** One trip to a database: a WebSocket session or an HTTP SQL request, with its round trips (set-up included). */
type Trip = { db: string; roundTrips: number };
type Cost = { status: number; trips: Trip[]; ms: number };

/**
 * What a trip costs on each transport. WebSocket: every session pays its set-up (TCP, TLS 1.3, the
 * upgrade: 3), then the startup leaves pipelined with the first statement (1); a transaction adds
 * each operation and COMMIT. HTTP: one request per statement or planned batch, on a connection the
 * runtime keeps alive (no set-up once warm): 1.
 */
const PLAN = {
  ws: { oneQuery: 3 + 1, transaction: (n: number) => 3 + 1 + n + 1 },
  http: { oneQuery: 1, transaction: () => 1 },
} as const;

describe.each(['ws', 'http'] as const)(`round trips per request, ${RTT_MS} ms away, DB_TRANSPORT=%s`, (transport) => {
  const plan = PLAN[transport];
  const table = `rtt_${transport}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let distant: DistantGateway | undefined;
  let box: NodeSandbox;
  let proxy: WsProxy;
  let server: WorkerServer;
  const ended: Trip[] = [];
  const dbLabel = (name: string | undefined): string => (name === new URL(inject('tenantDatabaseUrl')).pathname.slice(1) ? 'tenant' : 'catalog');

  beforeAll(async () => {
    // The change-epoch check of an isolate idle past AUTH_CHANGE_BOUND_MS is off (an hour): each request's
    // own cost is counted (that check is one coalesced catalog statement: revocation.test.ts).
    distant = await startDistantGateway(
      table,
      {
        rttMs: RTT_MS,
        onConnectionEnd: (s) => ended.push({ db: dbLabel(s.database), roundTrips: s.setupRoundTrips + s.roundTrips }),
        onSqlRequestEnd: (s) => ended.push({ db: dbLabel(s.database), roundTrips: s.setupRoundTrips + s.roundTrips }),
      },
      { DB_TRANSPORT: transport, AUTH_CHANGE_BOUND_MS: '3600000' },
    );
    ({ box, proxy, server } = distant);
  }, 120_000);

  afterAll(async () => {
    await distant?.close();
  });

  /** Sends one request; returns its status, its trips (in the order they ended) and its time. */
  async function cost(path: string, headers: Record<string, string>, body?: unknown): Promise<Cost> {
    const before = ended.length;
    const t0 = performance.now();
    const init = body === undefined ? { headers } : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const res = await fetch(`${server.url}${path}`, init);
    await res.text();
    const ms = Math.round(performance.now() - t0);
    // Sessions close after the response (waitUntil): wait for the proxy to see them end.
    for (let i = 0; i < 250 && proxy.connections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    return { status: res.status, trips: ended.slice(before), ms };
  }

  const insertOp = (i: number) => ({ id: `op${i}`, kind: 'insert', payload: { table_name: table, insert_body: { title: `tx ${i}` } } });

  it(`a cached verify pays none; a hot-key fetch and an insert ${plan.oneQuery}; a transaction of 1 ${plan.transaction(1)}, of 5 ${plan.transaction(5)}`, async () => {
    const { client, key } = await box.clientWithKey();
    const headers = { 'x-athena-client': client, 'x-athena-key': key };
    const fetchBody = { table_name: table, limit: 5 };
    const kinds: Record<string, () => Promise<Cost>> = {
      'cached verify': () => cost('/v1/auth/verify', headers),
      'hot-key fetch': () => cost('/gateway/fetch', headers, fetchBody),
      insert: () => cost('/gateway/insert', headers, { table_name: table, insert_body: { title: 'one' } }),
      'transaction of 1': () => cost('/gateway/transaction', headers, { operations: [insertOp(1)] }),
      'transaction of 5': () => cost('/gateway/transaction', headers, { operations: [1, 2, 3, 4, 5].map(insertOp) }),
    };
    expect((await cost('/gateway/fetch', headers, fetchBody)).status).toBe(200); // key, policy and catalog cached; HTTP connection warm
    const seen: Record<string, Cost[]> = {};
    for (const [kind, run] of Object.entries(kinds)) {
      seen[kind] = [];
      for (let i = 0; i < REPEATS; i++) seen[kind].push(await run());
    }
    const trips = (kind: string) => [...new Set(seen[kind]?.map((c) => JSON.stringify([c.status, c.trips])))].map((x) => JSON.parse(x) as unknown);
    expect(trips('cached verify')).toEqual([[200, []]]);
    expect(trips('hot-key fetch')).toEqual([[200, [{ db: 'tenant', roundTrips: plan.oneQuery }]]]);
    expect(trips('insert')).toEqual([[201, [{ db: 'tenant', roundTrips: plan.oneQuery }]]]);
    expect(trips('transaction of 1')).toEqual([[200, [{ db: 'tenant', roundTrips: plan.transaction(1) }]]]);
    expect(trips('transaction of 5')).toEqual([[200, [{ db: 'tenant', roundTrips: plan.transaction(5) }]]]);
    console.info(
      `${transport}: round trips at ${RTT_MS} ms, fastest of ${REPEATS} (ms):`,
      JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, cs]) => [k, Math.min(...cs.map((c) => c.ms))]))),
    );
  });

  it("a fresh key's first fetch: a new client's directory load and the key lookup on the catalog, then the query; a known client's skips the directory", async () => {
    const { client, keys } = await box.clientWithKey(2);
    const fetchWith = (key: string | undefined) =>
      cost('/gateway/fetch', { 'x-athena-client': client, 'x-athena-key': key ?? '' }, { table_name: table, limit: 5 });
    const first = await fetchWith(keys[0]);
    const second = await fetchWith(keys[1]);
    expect([first.status, second.status]).toEqual([200, 200]);
    console.info(`${transport}: fresh keys' first fetches at ${RTT_MS} ms: ${first.ms} ms, ${second.ms} ms`);
    expect(second.trips).toEqual([
      { db: 'catalog', roundTrips: plan.oneQuery },
      { db: 'tenant', roundTrips: plan.oneQuery },
    ]);
    // The tenant's tables are cached from the test above (per isolate); a cold catalog adds one round trip there.
    expect(first.trips).toEqual([
      { db: 'catalog', roundTrips: plan.oneQuery },
      { db: 'catalog', roundTrips: plan.oneQuery },
      { db: 'tenant', roundTrips: plan.oneQuery },
    ]);
  });
});
