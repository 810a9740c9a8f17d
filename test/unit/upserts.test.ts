import { describe, expect, it } from 'vitest';
import {
  apiKeyLastUsedUpdate,
  clientStatisticsUpsert,
  clientTableStatisticsUpsert,
  deltaStatements,
  ledgerInsert,
  ledgerPrune,
  mergeDeltas,
} from '../../drizzle/upserts.js';
import { dataErrorState } from '../../drizzle/data-errors.js';
import { batchSchema } from '../../drizzle/batch.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const squash = (sql: string) => sql.replace(/\s+/g, ' ');

describe('upsert statement builders', () => {
  it('merge deltas by key across batches: sums counters, keeps the latest timestamps, sorts by key', () => {
    const merged = mergeDeltas([
      {
        clients: [
          { client_name: 'zeta', requests: 2, errors: 1, rate_limited: 1, last_seen: at(5) },
          { client_name: 'acme', requests: 1, errors: 0, rate_limited: 0, last_seen: at(9) },
        ],
        tables: [{ client_name: 'acme', table_name: 'users', operation: 'read', requests: 1, errors: 0, duration_ms: 4, last_seen: at(1) }],
        keys: [{ key_id: 'bbbbbbbb-0000-4000-8000-000000000000', last_used: at(3) }],
      },
      {
        // No rate_limited: a worker that predates the column (counts as 0).
        clients: [{ client_name: 'acme', requests: 5, errors: 2, last_seen: at(7) }],
        tables: [
          { client_name: 'acme', table_name: 'users', operation: 'read', requests: 3, errors: 1, duration_ms: 6, last_seen: at(2) },
          { client_name: 'acme', table_name: 'orders', operation: 'read', requests: 1, errors: 0, duration_ms: 1, last_seen: at(2) },
        ],
        keys: [
          { key_id: 'bbbbbbbb-0000-4000-8000-000000000000', last_used: at(1) },
          { key_id: 'aaaaaaaa-0000-4000-8000-000000000000', last_used: at(1) },
        ],
      },
    ]);
    expect(merged.clients).toEqual([
      { client_name: 'acme', requests: 6, errors: 2, rate_limited: 0, last_seen: at(9) },
      { client_name: 'zeta', requests: 2, errors: 1, rate_limited: 1, last_seen: at(5) },
    ]);
    expect(merged.tables.map((t) => [t.table_name, t.requests, t.duration_ms, t.last_seen])).toEqual([
      ['orders', 1, 1, at(2)],
      ['users', 4, 10, at(2)],
    ]);
    expect(merged.keys).toEqual([
      { key_id: 'aaaaaaaa-0000-4000-8000-000000000000', last_used: at(1) },
      { key_id: 'bbbbbbbb-0000-4000-8000-000000000000', last_used: at(3) },
    ]);
  });

  it('merging adds into copies: the input batches are never changed, and instants compare by time, not text', () => {
    const b = {
      clients: [{ client_name: 'acme', requests: 1, errors: 1, rate_limited: 1, last_seen: '2026-01-01T01:00:00+02:00' }],
      tables: [
        { client_name: 'acme', table_name: 't', operation: 'read' as const, requests: 2, errors: 0, duration_ms: 3, last_seen: '2026-01-01T01:00:00+02:00' },
      ],
      keys: [{ key_id: 'aaaaaaaa-0000-4000-8000-000000000000', last_used: '2026-01-01T01:00:00+02:00' }],
    };
    const before = structuredClone(b);
    // 01:00+02:00 is 23:00Z the day before: 00:00Z is later although it sorts first as text.
    const [client, table] = [b.clients[0], b.tables[0]];
    if (!client || !table) throw new Error('seeded');
    const later = {
      clients: [{ ...client, last_seen: '2026-01-01T00:00:00Z' }],
      tables: [{ ...table, last_seen: '2026-01-01T00:00:00Z' }],
      keys: [],
    };
    const merged = mergeDeltas([b, b, later]);
    expect(b).toEqual(before);
    expect(merged.clients).toEqual([{ client_name: 'acme', requests: 3, errors: 3, rate_limited: 3, last_seen: '2026-01-01T00:00:00Z' }]);
    expect(merged.tables[0]).toMatchObject({ requests: 6, duration_ms: 9, last_seen: '2026-01-01T00:00:00Z' });
    expect(mergeDeltas([b]).clients[0]).not.toBe(b.clients[0]);
  });

  it('client_statistics: one multi-row INSERT … ON CONFLICT adding EXCLUDED deltas, GREATEST last_seen, a parameter per column', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      client_name: `c${String(i).padStart(4, '0')}`,
      requests: i,
      errors: 1,
      rate_limited: i % 3,
      last_seen: at(i % 60),
    }));
    const st = clientStatisticsUpsert(rows);
    if (!st) throw new Error('expected a statement');
    const sql = squash(st.text);
    expect(sql).toMatch(/^INSERT INTO client_statistics AS t \(client_name, requests, errors, rate_limited, last_seen\)/);
    expect(sql).toContain('ON CONFLICT (client_name) DO UPDATE SET');
    expect(sql).toContain('requests = t.requests + EXCLUDED.requests');
    expect(sql).toContain('errors = t.errors + EXCLUDED.errors');
    expect(sql).toContain('rate_limited = t.rate_limited + EXCLUDED.rate_limited');
    expect(sql).toContain('last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen)');
    expect(sql).toContain('ORDER BY u.ord');
    expect(st.params).toHaveLength(5); // independent of the row count
    expect(st.params[0]).toEqual(rows.map((r) => r.client_name));
    expect(st.params[1]).toEqual(rows.map((r) => r.requests));
    expect(st.params[3]).toEqual(rows.map((r) => r.rate_limited));
  });

  it('client_table_statistics: conflict on (client, table, operation), adds duration_ms too', () => {
    const st = clientTableStatisticsUpsert([
      { client_name: 'a', table_name: 'users', operation: 'insert', requests: 2, errors: 0, duration_ms: 9, last_seen: at(0) },
    ]);
    if (!st) throw new Error('expected a statement');
    const sql = squash(st.text);
    expect(sql).toContain('ON CONFLICT (client_name, table_name, operation) DO UPDATE SET');
    expect(sql).toContain('duration_ms = t.duration_ms + EXCLUDED.duration_ms');
    expect(sql).toContain('GREATEST(t.last_seen, EXCLUDED.last_seen)');
    expect(st.params).toEqual([['a'], ['users'], ['insert'], [2], [0], [9], [at(0)]]);
  });

  it('api_keys: last_used_at only moves forward, rows locked in id order', () => {
    const st = apiKeyLastUsedUpdate([{ key_id: 'aaaaaaaa-0000-4000-8000-000000000000', last_used: at(1) }]);
    if (!st) throw new Error('expected a statement');
    const sql = squash(st.text);
    expect(sql).toContain('k.last_used_at IS NULL OR k.last_used_at < u.last_used');
    expect(sql).toContain('ORDER BY k.id FOR UPDATE OF k');
    expect(sql).toContain('SET last_used_at = GREATEST(k.last_used_at, u.last_used)');
  });

  it('ledger insert: sorted, de-duplicated ids, ON CONFLICT DO NOTHING RETURNING the new ones', () => {
    const st = ledgerInsert([
      { batch_id: 'BBBBBBBB-0000-4000-8000-000000000000', source: 'w2', rows: 3 },
      { batch_id: 'aaaaaaaa-0000-4000-8000-000000000000', source: 'w1', rows: 1 },
      { batch_id: 'bbbbbbbb-0000-4000-8000-000000000000', source: 'w2', rows: 3 },
    ]);
    if (!st) throw new Error('expected a statement');
    expect(squash(st.text)).toContain('ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id');
    expect(st.params[0]).toEqual(['aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000']);
  });

  it('empty inputs build no statement; deltaStatements keeps the one table order', () => {
    expect(clientStatisticsUpsert([])).toBeUndefined();
    expect(clientTableStatisticsUpsert([])).toBeUndefined();
    expect(apiKeyLastUsedUpdate([])).toBeUndefined();
    expect(ledgerInsert([])).toBeUndefined();
    expect(deltaStatements({ clients: [], tables: [], keys: [] })).toEqual([]);
    const all = deltaStatements(
      mergeDeltas([
        {
          clients: [{ client_name: 'a', requests: 1, errors: 0, last_seen: at(0) }],
          tables: [{ client_name: 'a', table_name: 't', operation: 'read', requests: 1, errors: 0, duration_ms: 0, last_seen: at(0) }],
          keys: [{ key_id: 'aaaaaaaa-0000-4000-8000-000000000000', last_used: at(0) }],
        },
      ]),
    );
    expect(all.map((s) => /client_table_statistics|client_statistics|api_keys/.exec(s.text)?.[0])).toEqual([
      'client_statistics',
      'client_table_statistics',
      'api_keys',
    ]);
  });

  it('the batch schema accepts a well-formed batch and refuses unknown fields, bad operations and negative counts', () => {
    const good = {
      batch_id: crypto.randomUUID(),
      source: 'worker:x',
      created_at: at(0),
      clients: [{ client_name: 'a', requests: 1, errors: 0, last_seen: at(0) }],
      tables: [{ client_name: 'a', table_name: 't', operation: 'read', requests: 1, errors: 0, duration_ms: 3, last_seen: at(0) }],
      keys: [],
    };
    expect(batchSchema.safeParse(good).success).toBe(true);
    expect(batchSchema.safeParse({ ...good, extra: 1 }).success).toBe(false);
    expect(batchSchema.safeParse({ ...good, batch_id: 'nope' }).success).toBe(false);
    expect(batchSchema.safeParse({ ...good, tables: [{ ...good.tables[0], operation: 'drop' }] }).success).toBe(false);
    expect(batchSchema.safeParse({ ...good, clients: [{ ...good.clients[0], requests: -1 }] }).success).toBe(false);
    expect(batchSchema.safeParse({ ...good, clients: [{ ...good.clients[0], last_seen: 'yesterday' }] }).success).toBe(false);
  });
});

describe('ledger pruning and data errors', () => {
  it('prunes everything past retention, or with a limit the oldest few, skipping rows another pruner holds', () => {
    expect(ledgerPrune(3_600_000)).toEqual({ text: expect.stringMatching(/^DELETE FROM flush_batches WHERE applied_at < now\(\)/), params: [3_600_000] });
    const bounded = ledgerPrune(3_600_000, 1000);
    expect(squash(bounded.text)).toContain('ORDER BY applied_at LIMIT $2 FOR UPDATE SKIP LOCKED');
    expect(bounded.params).toEqual([3_600_000, 1000]);
  });

  it('data errors are SQLSTATE classes 22 and 23 only', () => {
    expect(['22003', '23505', '22P02'].map((code) => dataErrorState({ code }))).toEqual(['22003', '23505', '22P02']);
    expect(['42501', '08006', '57014', '40P01'].map((code) => dataErrorState({ code }))).toEqual([undefined, undefined, undefined, undefined]);
    expect(dataErrorState(new Error('no code'))).toBeUndefined();
  });
});
