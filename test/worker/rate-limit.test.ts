/**
 * Rate limits inside workerd against the real catalog and the real `RateLimiter` Durable Object:
 * the new-user story (5/10s → five 200s, then 429 with Retry-After, then 200 after the window;
 * another client unaffected), the headers on allowed and refused answers, a key's own limit over
 * its client's default, a client default shared by its keys, blocked (0), and that a limited
 * request runs no tenant query.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createClient, createKey, uniqueName, withConnection } from './seed.js';
import { tenantDatabaseUrl } from './harness.js';
import { openSession } from '../../worker/db/session.js';
import { ADMIN, createTenantTable, fetchRows, flush, type Caller } from './counters-helpers.js';
import { fetchWith } from './harness.js';
import { sql } from './seed.js';

let table: string;
beforeAll(async () => {
  table = await createTenantTable();
});

const varsFor = () => ({ RATE_LIMIT_TEST_TAG: uniqueName('iso') });

type Limit = { requests: number; periodS: number };

async function caller(opts: { key?: Limit; client?: Limit } = {}): Promise<Caller> {
  const client = await createClient(undefined, { rateLimit: opts.client ?? null });
  const { key } = await createKey(client, undefined, { rateLimit: opts.key ?? null });
  return { client, key };
}

async function errorOf(res: Response): Promise<{ code: string; message: string; hint: string | null }> {
  return ((await res.json()) as { error: { code: string; message: string; hint: string | null } }).error;
}

describe('rate limits', () => {
  it('5/10s: five 200s, then 429 with Retry-After in the same window, 200 again after it; another client unaffected', async () => {
    const vars = varsFor();
    const limited = await caller({ key: { requests: 5, periodS: 10 } });
    const other = await caller();
    const started = Date.now();
    const first: Response[] = [];
    for (let i = 0; i < 5; i++) first.push(await fetchRows(vars, limited, table));
    expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(first.map((r) => r.headers.get('ratelimit'))).toEqual([4, 3, 2, 1, 0].map((r) => expect.stringMatching(new RegExp(`^"key";r=${r};t=\\d+$`))));
    expect(first[0]?.headers.get('ratelimit-policy')).toBe('"key";q=5;w=10');

    const refused = await fetchRows(vars, limited, table);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(refused.headers.get('ratelimit-policy')).toBe('"key";q=5;w=10');
    expect(refused.headers.get('ratelimit')).toBe(`"key";r=0;t=${retryAfter}`);
    const err = await errorOf(refused);
    expect(err).toMatchObject({ code: 'rate_limited', message: 'Rate limit of this API key exceeded (5/10s)' });
    expect(err.hint).toContain('Retry-After');

    for (let i = 0; i < 5; i++) {
      const res = await fetchRows(vars, other, table);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
    }

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
    const after = await fetchRows(vars, limited, table);
    expect(after.status).toBe(200);
    expect(after.headers.get('ratelimit')).toMatch(/^"key";r=4;t=\d+$/);
  }, 30_000);

  it("a key's own limit wins over its client's default; keys without one share the client's window", async () => {
    const vars = varsFor();
    const client = await createClient(undefined, { rateLimit: { requests: 3, periodS: 60 } });
    const a = { client, key: (await createKey(client, undefined, { name: 'a' })).key };
    const b = { client, key: (await createKey(client, undefined, { name: 'b' })).key };
    const own = { client, key: (await createKey(client, undefined, { name: 'own', rateLimit: { requests: 10, periodS: 60 } })).key };
    const statuses = [];
    for (const who of [a, b, a, b]) statuses.push((await fetchRows(vars, who, table)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await fetchRows(vars, a, table);
    expect(refused.headers.get('ratelimit-policy')).toBe('"client";q=3;w=60');
    expect((await errorOf(refused)).message).toBe('Rate limit of this client exceeded (3/60s)');
    const ownRes = await fetchRows(vars, own, table);
    expect(ownRes.status).toBe(200);
    expect(ownRes.headers.get('ratelimit-policy')).toBe('"key";q=10;w=60');
    expect(ownRes.headers.get('ratelimit')).toMatch(/^"key";r=9;t=\d+$/);
  });

  it('a limit of 0 blocks every request with 429 (no window needed)', async () => {
    const blocked = await caller({ key: { requests: 0, periodS: 10 } });
    const res = await fetchRows(varsFor(), blocked, table);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(await errorOf(res)).toMatchObject({ code: 'rate_limited', message: 'Requests are blocked for this API key (rate limit 0)' });
  });

  it('concurrent requests against one limit: exactly the limit is allowed', async () => {
    // The 30 calls queue at the object, and a runner shared with other files may answer the last
    // of them after the default 1 s: then those would go through unjudged, as they should.
    const vars = { ...varsFor(), RATE_LIMITER_TIMEOUT_MS: '30000' };
    const limited = await caller({ key: { requests: 7, periodS: 60 } });
    const responses = await Promise.all(Array.from({ length: 30 }, () => fetchRows(vars, limited, table)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s === 429)).toHaveLength(23);
  });

  it('a limited request takes no permit and runs no query: answered while the only permit waits on a locked table', async () => {
    const vars = { ...varsFor(), DB_POOL_MAX: '1', DB_ACQUIRE_TIMEOUT_MS: '20000', DB_STATEMENT_TIMEOUT_MS: '20000' };
    const locked = uniqueName('rl_items');
    await withConnection(tenantDatabaseUrl, (s) => s.query(`CREATE TABLE "${locked}" (id int PRIMARY KEY)`));
    const limited = await caller({ key: { requests: 1, periodS: 60 } });
    const unlimited = await caller();
    expect((await fetchRows(vars, limited, locked)).status).toBe(200);
    const holder = await openSession(tenantDatabaseUrl, { statementTimeoutMs: 30_000, localWsProxy: inject('wsProxy') });
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${locked}" IN ACCESS EXCLUSIVE MODE`);
      // Holds the tenant's only permit, waiting on the lock.
      const stuck = fetchRows(vars, unlimited, locked);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      for (let i = 0; i < 5; i++) expect((await fetchRows(vars, limited, locked)).status).toBe(429);
      expect(Date.now() - started).toBeLessThan(5000);
      await holder.query('COMMIT');
      expect((await stuck).status).toBe(200);
    } finally {
      await holder.close();
    }
  });

  it('refusals are counted per client: client_statistics.rate_limited after a flush, /__gateway/status, the request log', async () => {
    const vars = { ...varsFor(), STATS_FLUSH_INTERVAL_MS: '0', REQUEST_LOG: 'errors' };
    const limited = await caller({ client: { requests: 2, periodS: 60 } });
    const blocked = await caller({ key: { requests: 0, periodS: 60 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetchRows(vars, limited, table)).status);
    for (let i = 0; i < 3; i++) statuses.push((await fetchRows(vars, blocked, table)).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429, 429, 429]);
    const requestId = `rl-${crypto.randomUUID()}`;
    const logged = await fetchWith(vars, 'http://gateway/gateway/fetch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-athena-client': limited.client, 'x-athena-key': limited.key, 'x-request-id': requestId },
      body: JSON.stringify({ table_name: table, columns: ['id'] }),
    });
    expect(logged.status).toBe(429);
    await flush(vars);
    const rows = await sql<{ client_name: string; requests: string; errors: string; rate_limited: string }>(
      'SELECT client_name, requests, errors, rate_limited FROM client_statistics WHERE client_name = ANY($1) ORDER BY client_name',
      [[limited.client, blocked.client]],
    );
    const byClient = Object.fromEntries(
      rows.map((r) => [r.client_name, { requests: Number(r.requests), errors: Number(r.errors), rateLimited: Number(r.rate_limited) }]),
    );
    expect(byClient).toEqual({ [limited.client]: { requests: 7, errors: 5, rateLimited: 5 }, [blocked.client]: { requests: 3, errors: 3, rateLimited: 3 } });

    const status = (await (await fetchWith(vars, 'http://gateway/__gateway/status', { headers: ADMIN })).json()) as {
      rateLimits: { limited: number; byClient: Record<string, { limited: number; blocked: number }> };
      refusals: { byCode: Record<string, number> };
    };
    expect(status.rateLimits.limited).toBe(8);
    expect(status.rateLimits.byClient).toEqual({ [limited.client]: { limited: 5, blocked: 0 }, [blocked.client]: { limited: 0, blocked: 3 } });
    expect(status.refusals.byCode.rate_limited).toBe(8);
    const log = await sql('SELECT status, error_code, client_name FROM gateway_request_log WHERE request_id = $1', [requestId]);
    expect(log).toEqual([{ status: 429, error_code: 'rate_limited', client_name: limited.client }]);
  });
});
