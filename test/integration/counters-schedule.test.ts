/**
 * A burst followed by silence, as a user meets it: the worker served over HTTP (wrangler's dev
 * server, workerd) with the default STATS_FLUSH_INTERVAL_MS of 1 s and the direct sink; the burst's
 * counters are in `client_statistics` 3 s after its last response, with no further request.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clientWithKey } from '../support/served-client.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';
import { queryOnce } from '../support/query-once.js';

const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const table = `burst_items_${process.pid}_${Date.now().toString(36)}`;
const clientName = `burst-${process.pid}-${Date.now().toString(36)}`;

let server: WorkerServer;
let apiKey: string;

beforeAll(async () => {
  await queryOnce(tenantDatabaseUrl, `CREATE TABLE ${table} (id int PRIMARY KEY); INSERT INTO ${table} VALUES (1)`);
  apiKey = await clientWithKey(databaseUrl, clientName, { operations: ['read'], tables: [table] });
  server = await startWorkerServer({
    DATABASE_URL: databaseUrl,
    TENANT_DATABASE_URL: tenantDatabaseUrl,
    NEON_LOCAL_WS_PROXY: inject('wsProxy'),
    STATS_SINK: 'direct',
    STATS_FLUSH_INTERVAL_MS: '1000',
    FLUSHER_URL: '',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
    // Other files run beside this one: the burst waits for permits and connections rather than 503.
    DB_ACQUIRE_TIMEOUT_MS: '15000',
    DB_CONNECT_TIMEOUT_MS: '15000',
  });
});

afterAll(async () => {
  await server?.close();
  await queryOnce(tenantDatabaseUrl, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
});

const requestsOf = async (): Promise<number> =>
  Number((await queryOnce<{ requests: string }>(databaseUrl, 'SELECT requests FROM client_statistics WHERE client_name = $1', [clientName]))[0]?.requests ?? 0);

describe('flush schedule over HTTP', () => {
  it("a burst's counters are in client_statistics 3 s after the last response, with no further traffic", async () => {
    const N = 60;
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < N; i = next++) {
        const res = await fetch(`${server.url}/gateway/fetch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-athena-client': clientName, 'x-athena-key': apiKey },
          body: JSON.stringify({ table_name: table }),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    const lastAt = Date.now();
    expect(statuses).toEqual(Array<number>(N).fill(200));
    let seen = await requestsOf();
    while (seen !== N && Date.now() - lastAt < 3000) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await requestsOf();
    }
    expect(seen).toBe(N);
    expect(Date.now() - lastAt).toBeLessThan(3000);
  });
});
