/**
 * Auth lookups stay rare, counted from Postgres itself (pg_stat_statements, by the sandbox's role):
 * 50 concurrent first requests with one new key cost one key lookup and one policy lookup;
 * malformed keys cost nothing; "not found" is cached; a revoked key keeps working at most
 * AUTH_CACHE_TTL_MS (the revocation bound), then gets 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, gateway } from './harness.js';
import { createAuthSandbox, createClient, createKey, type AuthSandbox } from './seed.js';
import { authCacheStats } from '../../worker/auth/stats.js';
import { isolateFor } from '../../worker/isolate.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const KEY_LOOKUPS = '%from api_keys where key_hash%';
/** The directory: every client and its live key prefixes in one query. */
const POLICY_LOOKUPS = '%from clients c%';

describe('auth cache against Postgres', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('50 concurrent first requests with one new key: exactly one key lookup and one directory load', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '4' };
    const client = await box.createClient();
    const { key } = await box.createKey(client);
    const before = { keys: await box.statementCalls(KEY_LOOKUPS), policies: await box.statementCalls(POLICY_LOOKUPS) };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(await box.statementCalls(KEY_LOOKUPS)).toBe(before.keys + 1);
    expect(await box.statementCalls(POLICY_LOOKUPS)).toBe(before.policies + 1);
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    expect(authCacheStats(iso.isolate).keys).toMatchObject({ loads: 1, misses: 50 });
  });

  it('malformed keys cause no query at all; an unknown key is looked up once, then cached as not found', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_NEGATIVE_CACHE_TTL_MS: '600000' };
    const client = await box.createClient();
    const { prefix } = await box.createKey(client);
    const total = async () => box.statementCalls('%');
    const before = await total();
    for (const bad of ['nope', `${prefix}_short`, `${prefix}_${'A'.repeat(40)}!`, 'ath_ABCDEFGHIJ_' + 'a'.repeat(40)]) {
      const res = await fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': bad } });
      expect(res.status).toBe(401);
    }
    expect(await total()).toBe(before);

    const unknown = `${prefix}_${'Q'.repeat(40)}`;
    const keysBefore = await box.statementCalls(KEY_LOOKUPS);
    for (let i = 0; i < 3; i++) {
      const res = await fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': unknown } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    }
    expect(await box.statementCalls(KEY_LOOKUPS)).toBe(keysBefore + 1);
  });

  it('a revoked key keeps working at most AUTH_CACHE_TTL_MS, then 401', async () => {
    const ttlMs = 1500;
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_CACHE_TTL_MS: String(ttlMs) };
    const client = await box.createClient();
    const k = await box.createKey(client);
    const call = () => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });

    const cachedAt = Date.now();
    expect((await call()).status).toBe(200); // the key is now cached
    await box.revokeKey(k.id); // what `keys revoke` runs
    const revokedAt = Date.now();
    const statuses: number[] = [];
    let refusedAt = 0;
    while (Date.now() - revokedAt < ttlMs + 3000) {
      const res = await call();
      statuses.push(res.status);
      if (res.status === 401) {
        refusedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statuses.at(-1)).toBe(401);
    expect(statuses.slice(0, -1).every((s) => s === 200)).toBe(true);
    // Still served from cache right after revocation (when the first call came back within the TTL)…
    if (revokedAt - cachedAt < ttlMs / 2) expect(statuses[0]).toBe(200);
    // …and refused no later than one TTL after the entry was cached (plus one poll of slack).
    expect(refusedAt - cachedAt).toBeLessThanOrEqual(ttlMs + 500);
  });
});

describe('single-flight across requests', () => {
  it('concurrent first requests as separate Workers requests share one lookup and all complete', async () => {
    const client = await createClient();
    const { key } = await createKey(client);
    const iso = isolateFor(baseEnv);
    if (!iso.ok) throw new Error(iso.problem);
    const before = authCacheStats(iso.isolate).keys.loads;
    // gateway.fetch: each call is its own request into this isolate, so followers are woken from
    // the leader's request — the cross-request case DESIGN §4 warns about.
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => gateway.fetch(verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(authCacheStats(iso.isolate).keys.loads).toBe(before + 1);
  });
});
