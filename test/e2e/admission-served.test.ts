/**
 * Admission against the worker served over HTTP (wrangler's dev server: the real bundle in
 * workerd, each request its own request context — where a continuation resumed by another request
 * fails with "Cannot perform I/O on behalf of a different request" and a 500). A new client's
 * first burst — policy and key both uncached — 48 concurrent requests, 20 times over with
 * DB_POOL_MAX=2: no 5xx, every answer the JSON envelope with a request id, and per burst exactly
 * one directory query and one key query (pg_stat_statements by the sandbox role). And a client's
 * burst of 48 distinct fresh keys at once: no 5xx, every one 200, its misses coalesced into a few
 * key queries (the client's fair share is one lookup at a time with DB_POOL_MAX=2).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { createNodeSandbox, type NodeSandbox } from '../support/auth-sandbox.js';

const DIRECTORY_QUERIES = '%from clients c%';
const KEY_QUERIES = '%from api_keys where key_hash%';

let box: NodeSandbox;
let server: WorkerServer;

beforeAll(async () => {
  box = await createNodeSandbox(inject('databaseUrl'), inject('adminDatabaseUrl'));
  server = await startWorkerServer({
    DATABASE_URL: inject('databaseUrl'),
    AUTH_DATABASE_URL: box.url,
    NEON_LOCAL_WS_PROXY: inject('wsProxy'),
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
    DB_POOL_MAX: '2',
    // Each burst is a client created just before it: its name must reload the directory at once.
    AUTH_DIRECTORY_RECHECK_MS: '0',
  });
});

afterAll(async () => {
  await server?.close();
  await box?.drop();
});

type Answer = { status: number; json: boolean; requestId: boolean };

async function answer(res: Response): Promise<Answer> {
  const type = res.headers.get('content-type') ?? '';
  await res.text();
  return { status: res.status, json: type.startsWith('application/json'), requestId: res.headers.has('x-request-id') };
}

describe('served worker: cold bursts', () => {
  it('48 concurrent first requests of a new client, 20 times: no 5xx, one directory and one key query per burst', { timeout: 300_000 }, async () => {
    const bursts: { statuses: Record<number, number>; directory: number; keys: number }[] = [];
    for (let b = 0; b < Number(process.env.BURSTS ?? 20); b++) {
      const { client, key } = await box.clientWithKey();
      const before = { directory: await box.calls(DIRECTORY_QUERIES), keys: await box.calls(KEY_QUERIES) };
      const headers = { 'x-athena-client': client, 'x-athena-key': key };
      const answers = await Promise.all(
        Array.from({ length: 48 }, (_, i) =>
          (i % 2 === 0
            ? fetch(`${server.url}/v1/auth/verify`, { headers })
            : fetch(`${server.url}/gateway/fetch`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' })
          ).then(answer),
        ),
      );
      const statuses: Record<number, number> = {};
      for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      expect(answers.every((a) => a.json && a.requestId)).toBe(true);
      bursts.push({ statuses, directory: (await box.calls(DIRECTORY_QUERIES)) - before.directory, keys: (await box.calls(KEY_QUERIES)) - before.keys });
    }
    // verify → 200; fetch with an empty body passes auth and is refused by the handler (400).
    expect(bursts).toEqual(Array.from({ length: Number(process.env.BURSTS ?? 20) }, () => ({ statuses: { 200: 24, 400: 24 }, directory: 1, keys: 1 })));
  });
});

describe('served worker: a burst of distinct fresh keys', () => {
  it('48 concurrent requests with 48 fresh keys of one client, 5 times: all 200, misses coalesced', { timeout: 300_000 }, async () => {
    const bursts: { statuses: Record<number, number>; keyQueries: number }[] = [];
    for (let b = 0; b < 5; b++) {
      const { client, keys } = await box.clientWithKey(48);
      const before = await box.calls(KEY_QUERIES);
      const answers = await Promise.all(
        keys.map((key) => fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': client, 'x-athena-key': key } }).then(answer)),
      );
      const statuses: Record<number, number> = {};
      for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      bursts.push({ statuses, keyQueries: (await box.calls(KEY_QUERIES)) - before });
    }
    console.log('distinct-key bursts', JSON.stringify(bursts));
    expect(bursts.map((b) => b.statuses)).toEqual(bursts.map(() => ({ 200: 48 })));
    // One lookup at a time for the client, every miss arriving meanwhile in one batch: a handful of
    // queries for 48 keys (48 without coalescing), however the arrivals spread.
    for (const b of bursts) expect(b.keyQueries).toBeLessThanOrEqual(3);
  });
});
