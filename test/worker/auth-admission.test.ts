/**
 * The auth target under pressure, inside workerd against real Postgres: a blocked catalog table
 * costs a lookup AUTH_LOOKUP_TIMEOUT_MS at most (then 503 and the permit is back), one client's
 * lookups hold at most its fair share of permits (a further batch of its misses waits for its own
 * to end and is refused after the acquire timeout, counted once per client in the status), and a locked `clients`
 * table costs one directory query, not one per name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, budgetSnapshotFor } from './harness.js';
import { untilLockWaiters } from './lock-waits.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';
import { authStatus } from '../../worker/auth/auth-metrics.js';

const verifyUrl = 'http://gateway/v1/auth/verify';

type Settled = { status: number; code: string | null; ms: number };

async function timed(p: Promise<Response>): Promise<Settled> {
  const started = Date.now();
  const res = await p;
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code ?? null, ms: Date.now() - started };
}

describe('auth target under pressure', () => {
  let box: AuthSandbox;
  const isolateOf = (vars: Record<string, string>) => {
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    return iso.isolate;
  };
  const snapshot = (vars: Record<string, string>) => {
    const snap = budgetSnapshotFor(isolateOf(vars), targetOf(box.url));
    if (!snap) throw new Error('no budget for the sandbox target');
    return snap;
  };

  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('locked api_keys, default timeouts: 503 within acquire + lookup timeout (≈ 2 s), permit released, then recovery', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, TEST_CASE: 'lookup-timeout' };
    const client = await box.createClient();
    const warm = await box.createKey(client);
    const fresh = await box.createKey(client, undefined, { name: 'fresh' });
    const call = (k: SeededKey) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });
    expect((await call(warm)).status).toBe(200); // the directory is loaded

    const lock = await box.lockTable('api_keys');
    let blocked: Settled;
    try {
      blocked = await timed(call(fresh));
    } finally {
      await lock.release();
    }
    expect(blocked).toMatchObject({ status: 503, code: 'api_key_validation_unavailable' });
    expect(blocked.ms).toBeGreaterThanOrEqual(900); // AUTH_LOOKUP_TIMEOUT_MS=1000 ran out…
    expect(blocked.ms).toBeLessThan(2500); // …well before DB_STATEMENT_TIMEOUT_MS (5 s)
    expect(snapshot(vars)).toMatchObject({ inUse: 0, waiting: 0, reclaimedLeases: 0 });
    expect((await call(fresh)).status).toBe(200);
  });

  it('one client holds at most its share of permits: its further misses, coalesced, wait for its own to end (then 503), other clients still get permits', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '4', AUTH_LOOKUP_TIMEOUT_MS: '1500' };
    const hot = await box.createClient();
    const other = await box.createClient();
    const hotKeys: SeededKey[] = [];
    for (let i = 0; i < 6; i++) hotKeys.push(await box.createKey(hot, undefined, { name: `k${i}` }));
    const otherKey = await box.createKey(other);
    const call = (client: string, k: SeededKey) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });
    expect((await call(other, otherKey)).status).toBe(200); // directory loaded, other's key cached
    const otherFresh = await box.createKey(other, undefined, { name: 'fresh' });
    const [k0, k1, ...later] = hotKeys;
    if (!k0 || !k1) throw new Error('seeded');

    const lock = await box.lockTable('api_keys');
    let held: Settled[] = [];
    let refused: Settled[] = [];
    let otherResult: Settled;
    try {
      // One at a time, so each is its own lookup (concurrent misses of one client would share one).
      const holding = [timed(call(hot, k0))];
      await untilLockWaiters(box.role, 1); // sealed and blocked: the next miss is a lookup of its own
      holding.push(timed(call(hot, k1)));
      await untilLockWaiters(box.role, 2);
      const waiting = later.map((k) => timed(call(hot, k))); // one batch, its leader over the share
      await new Promise((r) => setTimeout(r, 200));
      expect(snapshot(vars)).toMatchObject({ size: 4, inUse: 2, waiting: 0 }); // share cap = floor(4 × 0.5)
      otherResult = await timed(call(other, otherFresh)); // a permit is free for it: no acquire wait
      refused = await Promise.all(waiting);
      held = await Promise.all(holding);
    } finally {
      await lock.release();
    }
    // The batch waited DB_ACQUIRE_TIMEOUT_MS (1 s) for a slot of its own client and gave up; two held the permits.
    expect(refused.every((r) => r.ms >= 800 && r.ms < 1450)).toBe(true);
    expect([...held, ...refused].every((r) => r.status === 503 && r.code === 'api_key_validation_unavailable')).toBe(true);
    expect(otherResult).toMatchObject({ status: 503, code: 'api_key_validation_unavailable' }); // the lock, not the budget
    expect(snapshot(vars)).toMatchObject({ inUse: 0, timeouts: 0 }); // nobody waited out DB_ACQUIRE_TIMEOUT_MS
    expect(authStatus(isolateOf(vars)).clients[hot]).toMatchObject({ inFlight: 0, refusedByShare: 1 }); // one batch, counted once
    expect(authStatus(isolateOf(vars)).clients[other]).toMatchObject({ refusedByShare: 0 });
    for (const k of hotKeys) expect((await call(hot, k)).status).toBe(200);
  });

  it('locked clients: new client names wait for one directory reload, which gives up after the lookup timeout; then recovery', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '2', AUTH_LOOKUP_TIMEOUT_MS: '800', TEST_CASE: 'directory' };
    const seeded: { client: string; key: SeededKey }[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await box.createClient();
      seeded.push({ client, key: await box.createKey(client) });
    }
    const call = ({ client, key }: { client: string; key: SeededKey }) =>
      fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key.key } });
    const before = await box.statementCalls('%from clients c%');
    const lock = await box.lockTable('clients');
    let results: Settled[];
    try {
      results = await Promise.all(seeded.map((s) => timed(call(s))));
    } finally {
      await lock.release();
    }
    expect(results.map((r) => [r.status, r.code])).toEqual(seeded.map(() => [503, 'api_key_policy_unavailable']));
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2500);
    expect(snapshot(vars)).toMatchObject({ inUse: 0, waiting: 0, timeouts: 0 });
    for (const s of seeded) expect((await call(s)).status).toBe(200);
    // Six names, one failed reload and one good one (a failed statement is not counted by pg_stat_statements).
    expect(await box.statementCalls('%from clients c%')).toBe(before + 1);
  });
});
