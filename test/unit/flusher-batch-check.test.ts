import { describe, expect, it } from 'vitest';
import { batchSchema } from '../../drizzle/batch.js';
import { acceptBatch } from '../../flusher/batch-check.js';
import { family, snapshot } from '../support/fleet-snapshot.js';

const SNAP = snapshot('a1b2c3d4e5f6', 5000, {
  budgets: [{ target: '127.0.0.1:5432/app', in_use: 1, size: 8, waiting: 0, slow_acquires: 2, timeouts: 0, acquired: 9 }],
  refusals: { invalid_api_key: 3 },
  routes: { fetch: family([9, 0, 3, 0, 0, 0], { 0: 12 }, 30) },
});

const T = '2026-12-01T10:00:00.000Z';
const ID = '7d3f1c8e-2b4a-4c6d-9e0f-1a2b3c4d5e6f';

function valid(): Record<string, unknown> {
  return {
    batch_id: ID,
    source: 'worker:abc',
    created_at: T,
    clients: [
      { client_name: 'acme', requests: 3, errors: 1, last_seen: T },
      { client_name: 'globex', requests: 1, errors: 0, rate_limited: 2, last_seen: '2026-12-01T11:00:00+02:00' },
    ],
    tables: [
      { client_name: 'acme', table_name: 'orders', operation: 'read', requests: 2, errors: 0, duration_ms: 5, last_seen: T },
      { client_name: 'globex', table_name: 'users', operation: 'rpc', requests: 1, errors: 1, duration_ms: 0, last_seen: T },
    ],
    keys: [{ key_id: '00000000-0000-0000-0000-000000000000', last_used: T }],
  };
}

// biome-ignore lint/suspicious/noExplicitAny: each edit reaches into a batch's JSON on purpose, to break it
type Edit = [string, (b: Record<string, any>) => void];
// biome-ignore lint/suspicious/noExplicitAny: as above
const row = (b: Record<string, any>, list: string) => b[list][0] as Record<string, unknown>;

/** Edits that keep the batch valid: the fast path must take them (else it buys nothing). */
const KEEPS_VALID: Edit[] = [
  ['as is', () => undefined],
  ['empty lists', (b) => Object.assign(b, { clients: [], tables: [], keys: [] })],
  ['63-char client', (b) => (row(b, 'clients').client_name = 'c'.repeat(63))],
  ['255-char table', (b) => (row(b, 'tables').table_name = 't'.repeat(255))],
  ['200-char source', (b) => (b.source = 's'.repeat(200))],
  ['largest count', (b) => (row(b, 'tables').duration_ms = Number.MAX_SAFE_INTEGER)],
  ['unicode names', (b) => (row(b, 'clients').client_name = 'zürich-😀')],
  ['leap day', (b) => (row(b, 'clients').last_seen = '2028-02-29T00:00:00Z')],
  ['with an isolate snapshot', (b) => (b.snapshot = structuredClone(SNAP))],
];

/** Every kind of defect the schema refuses. */
const BREAKS: Edit[] = [
  ['extra top-level key', (b) => (b.extra = 1)],
  ['extra row key', (b) => (row(b, 'tables').extra = 1)],
  ['missing batch_id', (b) => delete b.batch_id],
  ['missing keys list', (b) => delete b.keys],
  ['missing client last_seen', (b) => delete row(b, 'clients').last_seen],
  ['missing table operation', (b) => delete row(b, 'tables').operation],
  ['missing key last_used', (b) => delete row(b, 'keys').last_used],
  ['negative count', (b) => (row(b, 'clients').requests = -1)],
  ['fractional count', (b) => (row(b, 'tables').errors = 1.5)],
  ['count as string', (b) => (row(b, 'tables').requests = '1')],
  ['count past 2^53', (b) => (row(b, 'tables').duration_ms = Number.MAX_SAFE_INTEGER + 1)],
  ['rate_limited null', (b) => (row(b, 'clients').rate_limited = null)],
  ['empty client name', (b) => (row(b, 'clients').client_name = '')],
  ['64-char client', (b) => (row(b, 'tables').client_name = 'c'.repeat(64))],
  ['256-char table', (b) => (row(b, 'tables').table_name = 't'.repeat(256))],
  ['201-char source', (b) => (b.source = 's'.repeat(201))],
  ['NUL in a name', (b) => (row(b, 'tables').table_name = 'a\u0000b')],
  ['NUL in source', (b) => (b.source = 'w\u0000')],
  ['unknown operation', (b) => (row(b, 'tables').operation = 'drop')],
  ['bad batch uuid', (b) => (b.batch_id = 'not-a-uuid')],
  ['bad key uuid', (b) => (row(b, 'keys').key_id = ID.replace('4c6d', '4c6'))],
  ['instant without offset', (b) => (row(b, 'clients').last_seen = '2026-12-01T10:00:00')],
  ['date only', (b) => (b.created_at = '2026-12-01')],
  ['impossible date', (b) => (row(b, 'tables').last_seen = '2026-02-30T00:00:00Z')],
  ['row is null', (b) => (b.clients[1] = null)],
  ['row is an array', (b) => (b.tables[0] = [])],
  ['list is an object', (b) => (b.keys = {})],
  ['snapshot with an extra key', (b) => (b.snapshot = { ...structuredClone(SNAP), extra: 1 })],
  ['snapshot of an unknown route family', (b) => (b.snapshot = { ...structuredClone(SNAP), routes: { drop: SNAP.routes.fetch } })],
  ['snapshot histogram one bucket short', (b) => (b.snapshot = { ...structuredClone(SNAP), routes: { fetch: { ...SNAP.routes.fetch, latency: [1] } } })],
  ['snapshot target with credentials', (b) => (b.snapshot = { ...structuredClone(SNAP), budgets: [{ ...SNAP.budgets[0], target: 'user:pw@host:5432/db' }] })],
  ['snapshot is null', (b) => (b.snapshot = null)],
];

const outcome = (json: unknown) => {
  const fast = acceptBatch(json);
  const zod = batchSchema.safeParse(json);
  return { fast, zod };
};

describe('acceptBatch: a fast accept that is never looser than batchSchema', () => {
  it.each(KEEPS_VALID)('accepts what the schema accepts, unchanged: %s', (_name, edit) => {
    const b = valid();
    edit(b);
    const { fast, zod } = outcome(JSON.parse(JSON.stringify(b)));
    expect(zod.success).toBe(true);
    expect(fast).toEqual(zod.data);
  });

  it.each(BREAKS)('leaves the refusal to the schema: %s', (_name, edit) => {
    const b = valid();
    edit(b);
    const { fast, zod } = outcome(JSON.parse(JSON.stringify(b)));
    expect(zod.success).toBe(false);
    expect(fast).toBeUndefined();
  });

  it('refuses non-objects and a JSON __proto__ key', () => {
    for (const json of [null, [], 1, 'x', JSON.parse(`{"__proto__":{},${JSON.stringify(valid()).slice(1)}`)]) {
      expect(acceptBatch(json)).toBeUndefined();
      expect(batchSchema.safeParse(json).success).toBe(false);
    }
  });

  it('random single-field corruptions: whatever the fast path accepts, the schema accepts', () => {
    const values: unknown[] = [null, true, 0, -1, 2.5, 1e300, '', 'x', 'read', T, ID, '\u0000', [], {}, 'c'.repeat(64)];
    let seed = 42;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    let accepted = 0;
    for (let i = 0; i < 3_000; i++) {
      const b = valid();
      const list = ['clients', 'tables', 'keys'][rand(3)] as string;
      const target = rand(4) === 0 ? b : ((b[list] as Record<string, unknown>[])[0] ?? b);
      const keys = Object.keys(target);
      const key = rand(5) === 0 ? 'extra' : (keys[rand(keys.length)] as string);
      target[key] = values[rand(values.length)];
      const { fast, zod } = outcome(JSON.parse(JSON.stringify(b)));
      if (fast !== undefined) {
        accepted++;
        expect(zod.success, `${list}.${key} = ${JSON.stringify(target[key])}`).toBe(true);
      }
    }
    // Some corruptions are still valid (e.g. a count set to 0): the check is exercised both ways.
    expect(accepted).toBeGreaterThan(0);
  });
});
