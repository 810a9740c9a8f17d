/**
 * Cancelled requests inside workerd: a request whose signal aborts while it waits for a permit
 * leaves the queue at once (the budget's `cancelled` counter), answers without waiting out
 * DB_ACQUIRE_TIMEOUT_MS, and never starts its lookup (pg_stat_statements by the sandbox role).
 * In production the signal is the incoming request's (`enable_request_signal` in wrangler.toml);
 * here each request carries an AbortController's signal the test fires.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, until, budgetSnapshotFor } from './harness.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const KEY_QUERIES = '%from api_keys where key_hash%';

describe('cancellation', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('aborted requests leave the permit queue as cancelled, answer at once and start no lookup', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '2', DB_ACQUIRE_TIMEOUT_MS: '8000', AUTH_LOOKUP_TIMEOUT_MS: '8000' };
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const snapshot = () => budgetSnapshotFor(iso.isolate, targetOf(box.url));
    const seeded: { client: string; key: SeededKey }[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await box.createClient();
      seeded.push({ client, key: await box.createKey(client) });
    }
    const verify = (s: { client: string; key: SeededKey }, signal?: AbortSignal) =>
      fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': s.client, 'x-athena-key': s.key.key }, ...(signal ? { signal } : {}) });
    const [warm, h1, h2, ...waiters] = seeded;
    if (!warm || !h1 || !h2) throw new Error('seeded');
    expect((await verify(warm)).status).toBe(200); // the directory lists every client now
    const keysBefore = await box.statementCalls(KEY_QUERIES);

    const lock = await box.lockTable('api_keys');
    let held: Promise<Response>[] = [];
    try {
      held = [verify(h1), verify(h2)]; // both permits, blocked on the lock
      await until(() => snapshot()?.inUse === 2);
      const aborts = waiters.map(() => new AbortController());
      const queued = waiters.map((w, i) => verify(w, aborts[i]?.signal));
      await until(() => snapshot()?.waiting === waiters.length);
      const abortedAt = Date.now();
      for (const a of aborts) a.abort();
      const answers = await Promise.all(queued);
      expect(Date.now() - abortedAt).toBeLessThan(2000); // not the 8 s acquire timeout
      expect(answers.map((r) => r.status)).toEqual(waiters.map(() => 503));
      expect(snapshot()).toMatchObject({ waiting: 0, inUse: 2, cancelled: waiters.length, timeouts: 0 });
    } finally {
      await lock.release();
    }
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await box.statementCalls(KEY_QUERIES)) - keysBefore).toBe(2); // the holders only
  });
});
