/**
 * The auth target under pressure, inside workerd against real Postgres: a blocked catalog table
 * costs a lookup AUTH_LOOKUP_TIMEOUT_MS at most (then 503 and the permit is back), one client's
 * lookups hold at most its fair share of permits (a further batch of its misses waits for its own
 * to end and is refused after the acquire timeout, counted once per client in the status), a
 * permit timeout answers "busy" while a lookup the database failed answers "unavailable", and a
 * locked `clients` table costs one directory query, not one per name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, baseEnv, fetchWith, budgetSnapshotFor } from './harness.js';
import { untilLockWaiters } from './lock-waits.js';
import { createAuthSandbox, withConnection, type AuthSandbox, type SeededKey } from './seed.js';
import { targetOf } from '../../worker/db/target.js';
import { isolateFor } from '../../worker/isolate.js';
import { authStatus } from '../../worker/auth/auth-metrics.js';
import { refusalSnapshot } from '../../worker/fleet/refusal-counts.js';

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
    let lookupsStillRunning: number;
    try {
      blocked = await timed(call(fresh));
      // The lookup's own lock/statement timeout ended it on the server (no startup parameter carries it).
      lookupsStillRunning = await waitingOnLocks(box.role);
    } finally {
      await lock.release();
    }
    expect(lookupsStillRunning).toBe(0);
    expect(blocked).toMatchObject({ status: 503, code: 'api_key_validation_unavailable' });
    expect(blocked.ms).toBeGreaterThanOrEqual(900); // AUTH_LOOKUP_TIMEOUT_MS=1000 ran out…
    expect(blocked.ms).toBeLessThan(2500); // …well before DB_STATEMENT_TIMEOUT_MS (5 s)
    expect(snapshot(vars)).toMatchObject({ inUse: 0, waiting: 0, reclaimedLeases: 0 });
    expect((await call(fresh)).status).toBe(200);
  });

  it('one client holds at most its share of permits: its further misses, coalesced, wait for its own to end (then 503), other clients still get permits', async () => {
    // The held lookups outlast the batch's 1 s share wait by far: none ends inside it and lets the batch in.
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '4', AUTH_LOOKUP_TIMEOUT_MS: '3000' };
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
    // The batch waited DB_ACQUIRE_TIMEOUT_MS (1 s) for a slot of its own client and gave up; two held the
    // permits. Under 1.9 s: a batch that got a slot and then ran its lookup would take acquire + lookup (2 s).
    expect(refused.map((r) => r.ms).filter((ms) => ms < 800 || ms >= 1900)).toEqual([]);
    expect(held.map((r) => [r.status, r.code])).toEqual([
      [503, 'api_key_validation_unavailable'],
      [503, 'api_key_validation_unavailable'],
    ]); // the lock
    expect(refused.map((r) => [r.status, r.code])).toEqual(later.map(() => [503, 'api_key_validation_busy'])); // its own share: the catalog was not asked
    expect(otherResult).toMatchObject({ status: 503, code: 'api_key_validation_unavailable' }); // the lock, not the budget
    expect(snapshot(vars)).toMatchObject({ inUse: 0, timeouts: 0 }); // nobody waited out DB_ACQUIRE_TIMEOUT_MS
    expect(authStatus(isolateOf(vars).settings, isolateOf(vars).services).clients[hot]).toMatchObject({ inFlight: 0, refusedByShare: 1 }); // one batch, counted once
    expect(authStatus(isolateOf(vars).settings, isolateOf(vars).services).clients[other]).toMatchObject({ refusedByShare: 0 });
    for (const k of hotKeys) expect((await call(hot, k)).status).toBe(200);
  });

  it('a permit timeout answers api_key_validation_busy, a lookup the database failed answers api_key_validation_unavailable, each counted under its code', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, DB_POOL_MAX: '2', AUTH_LOOKUP_TIMEOUT_MS: '3000', TEST_CASE: 'busy-vs-down' };
    const clients = [await box.createClient(), await box.createClient(), await box.createClient()];
    const call = (client: string, k: SeededKey) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': k.key } });
    for (const client of clients) expect((await call(client, await box.createKey(client))).status).toBe(200); // directory loaded
    const [a, b, c] = await Promise.all(clients.map(async (client) => ({ client, key: await box.createKey(client, undefined, { name: 'fresh' }) })));
    if (!a || !b || !c) throw new Error('seeded');
    const before = refusalSnapshot(isolateOf(vars).services.refusals).byCode;

    const lock = await box.lockTable('api_keys');
    let holders: Settled[];
    let busy: Response;
    let busyMs: number;
    try {
      // Two clients' lookups (one each: the share cap of two permits) hold both permits on the lock.
      const holding = [timed(call(a.client, a.key))];
      await untilLockWaiters(box.role, 1);
      holding.push(timed(call(b.client, b.key)));
      await untilLockWaiters(box.role, 2);
      const started = Date.now();
      busy = await call(c.client, c.key); // no permit within DB_ACQUIRE_TIMEOUT_MS
      busyMs = Date.now() - started;
      holders = await Promise.all(holding);
    } finally {
      await lock.release();
    }
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await busy.json()).toEqual({
      error: { code: 'api_key_validation_busy', message: 'API key validation busy', hint: expect.stringContaining('connection budget') },
    });
    expect(busyMs).toBeLessThan(2500); // the acquire timeout (1 s), not the holders' 3 s lookups
    expect(holders.map((r) => [r.status, r.code])).toEqual([
      [503, 'api_key_validation_unavailable'],
      [503, 'api_key_validation_unavailable'],
    ]);
    const after = refusalSnapshot(isolateOf(vars).services.refusals).byCode;
    const delta = (code: string) => (after[code] ?? 0) - (before[code] ?? 0);
    expect([delta('api_key_validation_busy'), delta('api_key_validation_unavailable')]).toEqual([1, 2]);
    expect(snapshot(vars)).toMatchObject({ inUse: 0, waiting: 0, timeouts: 1 });
    expect((await call(c.client, c.key)).status).toBe(200);
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

/** Backends of `role` waiting on a lock right now. */
async function waitingOnLocks(role: string): Promise<number> {
  const rows = await withConnection(
    adminDatabaseUrl,
    async (s) => (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`, [role])).rows,
  );
  return rows[0]?.n ?? 0;
}
