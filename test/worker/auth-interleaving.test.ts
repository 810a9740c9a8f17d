/**
 * The interleaving behind the cold-burst 500s, forced deterministically: both permits held by two
 * key lookups (leaders) blocked on a locked `api_keys`, 20 followers queued behind each leader,
 * and four more first-time lookups queued for a permit. On release every request completes with
 * 200 — followers from the leaders' stored results, waiters with permits found on their own
 * re-checks — with exactly one statement per distinct key. (Across real request contexts the same
 * is proven over HTTP in test/e2e/admission-served.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, until, budgetSnapshotFor, authCacheStats } from './harness.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const KEY_QUERIES = '%from api_keys where key_hash%';

describe('leaders held, followers and waiters queued, then released', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('every request completes once the lookups can run, one statement per key', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '2', DB_ACQUIRE_TIMEOUT_MS: '8000', AUTH_LOOKUP_TIMEOUT_MS: '8000' };
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const seeded: { client: string; key: SeededKey }[] = [];
    for (let i = 0; i < 7; i++) {
      const client = await box.createClient();
      seeded.push({ client, key: await box.createKey(client) });
    }
    const verify = (s: { client: string; key: SeededKey }) =>
      fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': s.client, 'x-athena-key': s.key.key } });
    const [warm, a, b, ...others] = seeded;
    if (!warm || !a || !b) throw new Error('seeded');
    expect((await verify(warm)).status).toBe(200); // the directory lists every client
    const keysBefore = await box.statementCalls(KEY_QUERIES);
    const snapshot = () => budgetSnapshotFor(iso.isolate, targetOf(box.url));

    const lock = await box.lockTable('api_keys');
    const all: Promise<Response>[] = [];
    try {
      all.push(verify(a), verify(b)); // the two leaders take both permits and block
      await until(() => snapshot()?.inUse === 2);
      for (let i = 0; i < 20; i++) all.push(verify(a), verify(b)); // followers of each leader
      for (const o of others) all.push(verify(o)); // first-time lookups waiting for a permit
      await until(() => snapshot()?.waiting === others.length);
      expect(authCacheStats(iso.isolate).keys.inFlight).toBe(2 + others.length);
    } finally {
      await lock.release();
    }
    const statuses = (await Promise.all(all)).map((r) => r.status);
    expect(statuses).toEqual(all.map(() => 200));
    expect((await box.statementCalls(KEY_QUERIES)) - keysBefore).toBe(2 + others.length);
    expect(snapshot()).toMatchObject({ inUse: 0, waiting: 0, timeouts: 0, cancelled: 0 });
  });
});
