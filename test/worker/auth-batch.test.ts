/**
 * Coalesced key lookups inside workerd against real Postgres: N first requests of one client with
 * N distinct fresh keys and DB_POOL_MAX=2 (a share of one lookup for the client) all answer 200
 * from two key queries: the first lookup, and one batch of every miss that arrived while it ran
 * (`api_keys` is locked until the whole burst is in, so the first lookup runs all that time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authCacheStats, baseEnv, fetchWith, until } from './harness.js';
import { untilLockWaiters } from './lock-waits.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { isolateFor } from '../../worker/isolate.js';
import { authStatus } from '../../worker/auth/auth-metrics.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const KEY_QUERIES = '%from api_keys where key_hash%';
const N = 40;

describe('coalesced key lookups', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it(`${N} first requests with ${N} fresh keys of one client, DB_POOL_MAX=2: all 200 from exactly two key queries`, { timeout: 60_000 }, async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '2', DB_ACQUIRE_TIMEOUT_MS: '8000', AUTH_LOOKUP_TIMEOUT_MS: '8000', TEST_CASE: 'batch' };
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const isolate = iso.isolate;
    const client = await box.createClient();
    const warm = await box.createKey(client, undefined, { name: 'warm' });
    const keys: SeededKey[] = [];
    for (let i = 0; i < N; i++) keys.push(await box.createKey(client, undefined, { name: `k${i}` }));
    const call = (k: SeededKey) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });
    expect((await call(warm)).status).toBe(200); // the directory is loaded; only keys miss below
    const before = { queries: await box.statementCalls(KEY_QUERIES), cache: authCacheStats(isolate).keys };

    const lock = await box.lockTable('api_keys');
    let answers: Response[];
    try {
      const [first, ...rest] = keys.map((k) => () => call(k));
      if (!first) throw new Error('seeded');
      // The first lookup gets its session and blocks on the lock; every later miss joins one batch.
      const pending = [first()];
      await untilLockWaiters(box.role, 1);
      pending.push(...rest.map((f) => f()));
      await until(() => authCacheStats(isolate).keys.misses - before.cache.misses === N); // every request is in
      expect(authStatus(isolate.settings, isolate.services).clients[client]).toMatchObject({ inFlight: 1 }); // the second batch waits for the share
      await lock.release();
      answers = await Promise.all(pending);
    } finally {
      await lock.release();
    }
    expect(answers.map((r) => r.status)).toEqual(keys.map(() => 200));
    expect((await box.statementCalls(KEY_QUERIES)) - before.queries).toBe(2);
    const after = authCacheStats(isolate).keys;
    expect({ loads: after.loads - before.cache.loads, batched: after.batched - before.cache.batched }).toEqual({ loads: 2, batched: N - 2 });
    for (const k of keys.slice(0, 3)) expect((await call(k)).status).toBe(200); // now cached
    expect((await box.statementCalls(KEY_QUERIES)) - before.queries).toBe(2);
  });
});
