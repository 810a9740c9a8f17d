/**
 * Auth lookups stay rare, counted from Postgres itself (pg_stat_statements, by the sandbox's role):
 * 50 concurrent first requests with one new key cost one key lookup and one policy lookup;
 * malformed keys cost nothing; "not found" is cached; a revoked key keeps working at most
 * AUTH_CACHE_TTL_MS (the revocation bound), then gets 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, gateway, authCacheStats } from './harness.js';
import { createAuthSandbox, createClient, createKey, type AuthSandbox } from './seed.js';
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
    // Every request a miss or a hit of that one load: over HTTP the load can end before the last
    // requests arrive, which then hit the cache.
    const keys = authCacheStats(iso.isolate).keys;
    expect(keys).toMatchObject({ loads: 1, failures: 0 });
    expect(keys.misses + keys.hits).toBe(50);
  });

  it('malformed keys cause no query at all; an unknown key is looked up once, then cached as not found', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_NEGATIVE_CACHE_TTL_MS: '600000' };
    const client = await box.createClient();
    const { prefix } = await box.createKey(client);
    const total = async () => box.statementCalls('%');
    const before = await total();
    for (const bad of ['nope', `${prefix}_short`, `${prefix}_${'A'.repeat(40)}!`, `ath_ABCDEFGHIJ_${'a'.repeat(40)}`]) {
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
    // Caching call + revocation (one connection, one UPDATE) take well under a second even on a busy
    // machine, so a 3 s TTL leaves the first call after revoking well inside the entry's life.
    const ttlMs = 3000;
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_CACHE_TTL_MS: String(ttlMs) };
    const client = await box.createClient();
    const k = await box.createKey(client);
    const call = () => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });

    const loadStart = Date.now();
    expect((await call()).status).toBe(200); // the lookup that caches the key: entry expires ≥ loadStart + TTL
    const loadEnd = Date.now(); // … and ≤ loadEnd + TTL
    await box.revokeKey(k.id); // what `keys revoke` runs
    // Each poll: when it started and what it got. No timing slack: a call started before the entry
    // can have expired must be served, one started after it must have expired must be refused.
    const polls: Array<{ startedAt: number; status: number }> = [];
    for (;;) {
      const startedAt = Date.now();
      polls.push({ startedAt, status: (await call()).status });
      if (startedAt >= loadEnd + ttlMs) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = polls[0];
    expect(first && first.startedAt - loadStart).toBeLessThan(ttlMs); // revoking was quick enough to observe the window
    expect(first?.status).toBe(200); // still served from the cache right after revocation
    for (const p of polls) {
      if (p.startedAt < loadStart + ttlMs) expect(p.status).toBe(200);
      if (p.startedAt >= loadEnd + ttlMs) expect(p.status).toBe(401);
    }
    const firstRefused = polls.findIndex((p) => p.status === 401);
    expect(firstRefused).toBeGreaterThan(0);
    expect(polls.slice(firstRefused).every((p) => p.status === 401)).toBe(true); // once refused, never served again
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
    // the leader's request — the cross-request case docs/auth.md warns about.
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => gateway.fetch(verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(authCacheStats(iso.isolate).keys.loads).toBe(before + 1);
  });
});
