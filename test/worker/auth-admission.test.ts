/**
 * The pool-starvation failure this gateway is built around (docs/architecture.md), on purpose: DB_POOL_MAX=2 and a short acquire timeout,
 * the auth tables locked from another connection, concurrent requests with uncached keys (resp.
 * clients). The requests beyond the budget answer 503 validation (resp. policy) unavailable within
 * the acquire timeout instead of hanging; the snapshot shows the timeouts; once the lock is gone
 * the same requests succeed and in-use returns to 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith } from './harness.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { budgetSnapshotFor } from '../../worker/admission/registry.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const CONCURRENT = 6;
const POOL = 2;

type Settled = { status: number; code: string | null; retryAfter: string | null };

async function settle(res: Response): Promise<Settled> {
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code ?? null, retryAfter: res.headers.get('retry-after') };
}

/** Resolves once `n` of `promises` have settled (bounded by the test timeout). */
function firstSettled<T>(promises: Promise<T>[], n: number): Promise<T[]> {
  return new Promise((resolve) => {
    const done: T[] = [];
    for (const p of promises) {
      void p.then((v) => {
        done.push(v);
        if (done.length === n) resolve([...done]);
      });
    }
  });
}

describe('pool starvation on the auth target', () => {
  let box: AuthSandbox;
  let vars: Record<string, string>;
  const snapshot = () => {
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const snap = budgetSnapshotFor(iso.isolate, targetOf(box.url));
    if (!snap) throw new Error('no budget for the sandbox target');
    return snap;
  };

  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('locked api_keys: 503 api_key_validation_unavailable beyond the budget, then recovery', async () => {
    vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: String(POOL), DB_ACQUIRE_TIMEOUT_MS: '200', DB_STATEMENT_TIMEOUT_MS: '20000' };
    const client = await box.createClient();
    const warm = await box.createKey(client);
    const keys: SeededKey[] = [];
    for (let i = 0; i < CONCURRENT; i++) keys.push(await box.createKey(client, undefined, { name: `k${i}` }));
    const call = (k: SeededKey) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });
    expect((await call(warm)).status).toBe(200); // the client policy is now cached

    const lock = await box.lockTable('api_keys');
    let pending: Promise<Settled>[] = [];
    try {
      pending = keys.map((k) => call(k).then(settle));
      // Everything beyond the two permits gives up after the acquire timeout…
      const early = await firstSettled(pending, CONCURRENT - POOL);
      expect(early).toEqual(
        Array.from({ length: CONCURRENT - POOL }, () => ({ status: 503, code: 'api_key_validation_unavailable', retryAfter: expect.stringMatching(/^\d+$/) })),
      );
      // …while the two permit holders wait on the lock.
      expect(snapshot()).toMatchObject({ size: POOL, inUse: POOL, waiting: 0, timeouts: CONCURRENT - POOL });
    } finally {
      await lock.release();
    }
    const all = await Promise.all(pending);
    expect(all.filter((s) => s.status === 200)).toHaveLength(POOL); // the holders finish once the lock is gone
    // The same requests succeed now (one at a time: each is an uncached key lookup).
    for (const k of keys) expect((await call(k)).status).toBe(200);
    expect(snapshot()).toMatchObject({ inUse: 0, waiting: 0, timeouts: CONCURRENT - POOL, reclaimedLeases: 0 });
  });

  it('locked clients: 503 api_key_policy_unavailable beyond the budget, then recovery', async () => {
    vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: String(POOL), DB_ACQUIRE_TIMEOUT_MS: '200', DB_STATEMENT_TIMEOUT_MS: '20000', TEST_CASE: 'policy' };
    const seeded: { client: string; key: SeededKey }[] = [];
    for (let i = 0; i < CONCURRENT; i++) {
      const client = await box.createClient();
      seeded.push({ client, key: await box.createKey(client) });
    }
    const call = ({ client, key }: { client: string; key: SeededKey }) =>
      fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key.key } });

    const lock = await box.lockTable('clients');
    let pending: Promise<Settled>[] = [];
    try {
      pending = seeded.map((s) => call(s).then(settle));
      const early = await firstSettled(pending, CONCURRENT - POOL);
      expect(early).toEqual(
        Array.from({ length: CONCURRENT - POOL }, () => ({ status: 503, code: 'api_key_policy_unavailable', retryAfter: expect.stringMatching(/^\d+$/) })),
      );
      expect(snapshot()).toMatchObject({ size: POOL, inUse: POOL, timeouts: CONCURRENT - POOL });
    } finally {
      await lock.release();
    }
    const all = await Promise.all(pending);
    expect(all.filter((s) => s.status === 200)).toHaveLength(POOL);
    for (const s of seeded) expect((await call(s)).status).toBe(200);
    expect(snapshot()).toMatchObject({ inUse: 0, waiting: 0, timeouts: CONCURRENT - POOL, reclaimedLeases: 0 });
  });
});
