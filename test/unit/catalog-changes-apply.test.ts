/**
 * Changes applied to an isolate's auth caches (worker/auth/catalog-changes.ts `applyChanges`, over
 * the real loading caches): a changed key leaves the key cache, a changed client empties the
 * directory and its per-name policy, a reset drops everything, and a load in flight when a change
 * lands still answers its caller but is not cached.
 */
import { describe, expect, it } from 'vitest';
import { createLoadingCache } from '../../worker/auth/cache.js';
import { applyChanges, type ChangeTargets } from '../../worker/auth/catalog-changes.js';
import { createChangeTracker } from '../../worker/auth/change-tracker.js';
import type { Directory } from '../../worker/auth/directory.js';
import type { ClientPolicy, KeyRecord } from '../../worker/auth/records.js';
import { manualClock } from './manual-clock.js';

const KEY_A = '0b7e3f5c-64a5-4c39-9a3f-2a4b0c1d2e3f';
const KEY_B = '9d1f2e3c-0000-4000-8000-000000000001';

function caches() {
  const clock = manualClock(1_000_000);
  const opts = { maxEntries: 100, ttlMs: 600_000, negativeTtlMs: 600_000, staleIfUnavailableMs: 0, flightTimeoutMs: 5000, ...clock };
  const keyCache = createLoadingCache<KeyRecord>({ ...opts, maxBatch: 8 });
  const policyCache = createLoadingCache<ClientPolicy>(opts);
  const directoryCache = createLoadingCache<Directory>({ ...opts, ttlMs: 600_000 });
  const check = createLoadingCache<true>(opts);
  const targets: ChangeTargets = {
    changes: { tracker: createChangeTracker(), check },
    keyCache,
    policyCache,
    directory: { cache: directoryCache, failedAt: undefined },
  };
  return { targets, keyCache, policyCache, directoryCache };
}

const record = (id: string, clientName: string): KeyRecord => ({
  id,
  clientName,
  prefix: `ath_${id.slice(0, 10)}`,
  scopes: { operations: ['read'], tables: ['*'] },
  expiresAt: null,
  revokedAt: null,
  rateLimit: null,
});
const policy = (clientName: string): ClientPolicy => ({
  clientName,
  databaseUrl: null,
  isActive: true,
  isFrozen: false,
  enforcement: 'required',
  rateLimit: null,
});
const directory = { loadedAt: 0, complete: true, clients: new Map(), prefixOwner: new Map(), prefixesComplete: true } satisfies Directory;
const at = (through: number, items: Array<{ kind: 'key' | 'client' | 'all'; client_name: string | null; key_id: string | null }>) => ({
  through,
  age_ms: 0,
  reset: false,
  items: items.map((c, i) => ({ epoch: through - items.length + 1 + i, ...c })),
});

async function fill(c: ReturnType<typeof caches>): Promise<void> {
  applyChanges(c.targets, { through: 10, age_ms: 0, reset: true, items: [] }, 0); // the isolate's first epoch, before anything is cached
  await c.keyCache.get('hash-a', () => Promise.resolve(record(KEY_A, 'acme')));
  await c.keyCache.get('hash-b', () => Promise.resolve(record(KEY_B, 'other')));
  await c.keyCache.get('hash-unknown', () => Promise.resolve(null));
  await c.policyCache.get('acme', () => Promise.resolve(policy('acme')));
  await c.policyCache.get('other', () => Promise.resolve(policy('other')));
  await c.directoryCache.get('directory', () => Promise.resolve(directory));
}

describe('applying catalog changes to the caches', () => {
  it('a changed key leaves the key cache; other keys, the unknown hash and the directory stay', async () => {
    const c = caches();
    await fill(c);
    applyChanges(c.targets, at(11, [{ kind: 'key', client_name: 'acme', key_id: KEY_A }]), 1);
    expect(c.keyCache.peek('hash-a')).toBeUndefined();
    expect(c.keyCache.found('hash-b')).toMatchObject({ id: KEY_B });
    expect(c.keyCache.peek('hash-unknown')).toMatchObject({ value: null, fresh: true });
    expect(c.directoryCache.stored('directory')).toBe(directory);
    expect(c.targets.changes.tracker).toMatchObject({ epoch: 11, checkedAt: 1 });
  });

  it("a changed client empties the directory and drops that client's policy, not its keys", async () => {
    const c = caches();
    await fill(c);
    applyChanges(c.targets, at(11, [{ kind: 'client', client_name: 'acme', key_id: null }]), 1);
    expect(c.directoryCache.stored('directory')).toBeUndefined();
    expect(c.policyCache.peek('acme')).toBeUndefined();
    expect(c.policyCache.found('other')).toMatchObject({ clientName: 'other' });
    expect(c.keyCache.found('hash-a')).toMatchObject({ id: KEY_A });
  });

  it('a reset (or a TRUNCATE) drops every cached key, policy and the directory', async () => {
    const c = caches();
    await fill(c);
    applyChanges(c.targets, at(11, [{ kind: 'all', client_name: null, key_id: null }]), 1);
    expect([c.keyCache.stats().size, c.policyCache.stats().size, c.directoryCache.stats().size]).toEqual([0, 0, 0]);
  });

  it('an answer already applied drops nothing again', async () => {
    const c = caches();
    await fill(c);
    const change = at(11, [{ kind: 'key', client_name: 'acme', key_id: KEY_A }]);
    applyChanges(c.targets, change, 1);
    await c.keyCache.get('hash-a', () => Promise.resolve(record(KEY_A, 'acme')));
    applyChanges(c.targets, change, 2); // a retried ack
    expect(c.keyCache.found('hash-a')).toMatchObject({ id: KEY_A });
  });

  it('a lookup in flight when a change lands answers its caller but is not cached', async () => {
    const c = caches();
    await fill(c);
    let finish: (r: KeyRecord) => void = () => undefined;
    const pending = c.keyCache.get('hash-c', () => new Promise<KeyRecord>((resolve) => (finish = resolve)));
    applyChanges(c.targets, at(11, [{ kind: 'key', client_name: 'acme', key_id: KEY_A }]), 1);
    finish(record(KEY_A, 'acme'));
    expect(await pending).toMatchObject({ ok: true, value: { id: KEY_A } });
    expect(c.keyCache.peek('hash-c')).toBeUndefined();
  });
});
