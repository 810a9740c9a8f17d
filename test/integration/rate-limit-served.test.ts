/**
 * Rate limits as a new user meets them: keys made with the real CLI, the worker served over HTTP
 * (the deploy bundle in `workerd serve`, the `RateLimiter` Durable Object in memory). Concurrent requests over
 * real sockets get exactly the limit; another client is unaffected; `keys set … none` lifts the
 * limit within AUTH_CACHE_TTL_MS.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { gateway } from './cli-support.js';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';

const databaseUrl = inject('databaseUrl');
const tenantUrl = inject('tenantDatabaseUrl');
const TTL_MS = 3_000;
const run = `${process.pid}-${Date.now().toString(36)}`;
const table = `rl_served_${run.replace(/-/g, '_')}`;

let server: WorkerServer;
type Who = { client: string; key: string; prefix: string };
let limited: Who;
let other: Who;
/** 1/60s: its window outlives the lift test, so a 200 there can only mean the limit is gone. */
let lifted: Who;

async function newKey(client: string, ...flags: string[]): Promise<Who> {
  expect((await gateway('clients', 'add', client)).code).toBe(0);
  const created = await gateway('keys', 'create', '--client', client, '--name', 'k', ...flags, '--json');
  expect(created.code).toBe(0);
  const { key, prefix } = JSON.parse(created.stdout) as { key: string; prefix: string };
  return { client, key, prefix };
}

beforeAll(async () => {
  const tenant = new pg.Client({ connectionString: tenantUrl });
  await tenant.connect();
  await tenant.query(`CREATE TABLE "${table}" (id int PRIMARY KEY); INSERT INTO "${table}" VALUES (1)`);
  await tenant.end();
  [limited, other, lifted] = await Promise.all([
    newKey(`rl-a-${run}`, '--rate-limit', '5/10s'),
    newKey(`rl-b-${run}`),
    newKey(`rl-c-${run}`, '--rate-limit', '1/60s'),
  ]);
  server = await startWorkerServer({
    DATABASE_URL: databaseUrl,
    TENANT_DATABASE_URL: tenantUrl,
    NEON_LOCAL_WS_PROXY: inject('wsProxy'),
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    AUTH_CACHE_TTL_MS: String(TTL_MS),
    // A loaded test machine (other files run beside this one): the unlimited client's burst waits
    // for permits and connections rather than 503.
    DB_ACQUIRE_TIMEOUT_MS: '15000',
    // Concurrent verdicts queue at the limiter: judged all, however busy the machine (the 1 s default
    // would let a late one through unjudged, as production should).
    RATE_LIMITER_TIMEOUT_MS: '30000',
    DB_CONNECT_TIMEOUT_MS: '15000',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
  });
});

afterAll(async () => {
  await server?.close();
});

const call = (who: Who) =>
  fetch(`${server.url}/gateway/fetch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': who.client, 'x-athena-key': who.key },
    body: JSON.stringify({ table_name: table, columns: ['id'] }),
  });

describe('rate limits over HTTP', () => {
  it('5/10s: 20 concurrent requests get exactly five 200s and fifteen 429s with Retry-After; another client is unaffected', async () => {
    expect((await call(other)).status).toBe(200); // its key and the directory are cached
    const [mine, theirs] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => call(limited))),
      Promise.all(Array.from({ length: 20 }, () => call(other))),
    ]);
    const statuses = mine.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    for (const res of mine.filter((r) => r.status === 429)) {
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
      expect(res.headers.get('ratelimit-policy')).toBe('"key";q=5;w=10');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    }
    expect(theirs.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(theirs.every((r) => r.headers.get('ratelimit') === null)).toBe(true);
  });

  it('keys set <prefix> --rate-limit none lifts the limit within AUTH_CACHE_TTL_MS', async () => {
    expect((await call(lifted)).status).toBe(200);
    expect((await call(lifted)).status).toBe(429);
    expect((await gateway('keys', 'set', lifted.prefix, '--rate-limit', 'none')).code).toBe(0);
    const changedAt = Date.now();
    let liftedAt: number | undefined;
    while (Date.now() < changedAt + TTL_MS + 3_000 && liftedAt === undefined) {
      const res = await call(lifted);
      if (res.status === 200) {
        liftedAt = Date.now();
        expect(res.headers.get('ratelimit')).toBeNull();
      } else expect(res.status).toBe(429);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(liftedAt).toBeDefined();
    expect(liftedAt).toBeLessThanOrEqual(changedAt + TTL_MS + 1_500);
  });
});
