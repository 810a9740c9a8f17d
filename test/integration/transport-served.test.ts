/**
 * Concurrency against a served worker on each database transport (DB_TRANSPORT=ws and http): a
 * burst of requests of every kind that touches the database — first verifies with fresh keys (key
 * lookups), fetches, inserts and 5-operation transactions — in flight at once on one isolate.
 * Each answers 200 with its own rows, and the inserts land exactly: no request resumes on a promise
 * another request settles (workerd would answer that request 500).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDistantGateway, type DistantGateway } from '../support/distant-gateway.js';
import { queryOnce } from '../support/query-once.js';
import type { WorkerServer } from '../support/worker-server.js';

const KEYS = 16;

describe.each(['ws', 'http'] as const)('a served worker with DB_TRANSPORT=%s', (transport) => {
  const tenantUrl = inject('tenantDatabaseUrl');
  const table = `tr_${transport}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let distant: DistantGateway | undefined;
  let server: WorkerServer;
  let cred: { client: string; keys: string[] };

  beforeAll(async () => {
    // Every request waits for its permit rather than answering 503 on a loaded machine.
    distant = await startDistantGateway(table, {}, { DB_TRANSPORT: transport, DB_ACQUIRE_TIMEOUT_MS: '30000' });
    server = distant.server;
    cred = await distant.box.clientWithKey(KEYS);
  }, 120_000);

  afterAll(async () => {
    await distant?.close();
  });

  it('verifies with fresh keys, fetches, inserts and transactions at once: every one 200 with its own rows; inserts exact', async () => {
    const headers = (key: string) => ({ 'content-type': 'application/json', 'x-athena-client': cred.client, 'x-athena-key': key });
    const hot = cred.keys[0] ?? '';
    const post = async (path: string, body: unknown, key = hot) => {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: headers(key), body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { data?: unknown } };
    };
    const verify = async (key: string) => {
      const res = await fetch(`${server.url}/v1/auth/verify`, { headers: headers(key) });
      return { status: res.status, body: (await res.json()) as { data?: unknown } };
    };
    const fetchRow = (id: number) =>
      post('/gateway/fetch', { table_name: table, columns: 'id,title', conditions: [{ column: 'id', operator: 'eq', value: id }] });
    const insert = (title: string) => post('/gateway/insert', { table_name: table, insert_body: { title }, columns: 'title' });
    const op = (id: string, kind: string, payload: Record<string, unknown>) => ({ id, kind, payload: { table_name: table, ...payload } });
    const tx = (n: number) =>
      post('/gateway/transaction', {
        operations: [
          op('a', 'insert', { insert_body: { title: `tx ${n} a` }, columns: 'title' }),
          op('b', 'insert', { insert_body: { title: `tx ${n} b` }, columns: 'title' }),
          op('c', 'fetch', { columns: 'title', conditions: [{ column: 'id', operator: 'eq', value: 1 }] }),
          op('d', 'fetch', { columns: 'title', conditions: [{ column: 'id', operator: 'eq', value: 2 }] }),
          op('e', 'fetch', { columns: 'title', conditions: [{ column: 'title', operator: 'eq', value: `tx ${n} a` }] }),
        ],
      });
    // The isolate's first request (module start) and the tenant catalog are not what is tested.
    expect((await fetchRow(1)).status).toBe(200);
    const [verifies, fetches, inserts, txs] = await Promise.all([
      Promise.all(cred.keys.slice(1).map(verify)),
      Promise.all(Array.from({ length: 16 }, (_, i) => fetchRow((i % 3) + 1))),
      Promise.all(Array.from({ length: 8 }, (_, i) => insert(`insert ${i}`))),
      Promise.all(Array.from({ length: 8 }, (_, i) => tx(i))),
    ]);
    expect(verifies.map((r) => r.status)).toEqual(Array(KEYS - 1).fill(200));
    expect(fetches.map((r) => [r.status, r.body.data])).toEqual(
      Array.from({ length: 16 }, (_, i) => [200, [{ id: (i % 3) + 1, title: `row ${(i % 3) + 1}` }]]),
    );
    expect(inserts.map((r) => [r.status, r.body.data])).toEqual(Array.from({ length: 8 }, (_, i) => [201, [{ title: `insert ${i}` }]]));
    for (const [n, r] of txs.entries()) {
      expect(r.status).toBe(200);
      expect((r.body.data as { results: { data: unknown }[] }).results.map((x) => x.data)).toEqual([
        [{ title: `tx ${n} a` }],
        [{ title: `tx ${n} b` }],
        [{ title: 'row 1' }],
        [{ title: 'row 2' }],
        [{ title: `tx ${n} a` }],
      ]);
    }
    const rows = await queryOnce<{ n: number }>(tenantUrl, `SELECT count(*)::int AS n FROM ${table}`);
    expect(rows[0]?.n).toBe(3 + 8 + 16);
  });
});
