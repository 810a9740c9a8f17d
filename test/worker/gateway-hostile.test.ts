import { beforeAll, describe, expect, it } from 'vitest';
import { newCaller, tableName, tenantSql, type Caller } from './gateway-support.js';

const table = tableName('gw_hostile');
const sentinel = tableName('gw_sentinel');
let api: Caller;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${table} (id int PRIMARY KEY, name text, role text, tags text[], meta jsonb)`);
  await tenantSql(`INSERT INTO ${table} VALUES (1, 'a', 'x', '{t}', '{"k":1}'), (2, 'b', 'y', '{}', NULL)`);
  await tenantSql(`CREATE TABLE ${sentinel} (id int PRIMARY KEY)`);
  await tenantSql(`INSERT INTO ${sentinel} VALUES (1), (2), (3)`);
  api = await newCaller('gateway-hostile');
});

/** The database is exactly as seeded: both tables exist with their rows. */
const expectUnchanged = async () => {
  expect(await tenantSql(`SELECT id, name, role FROM ${table} ORDER BY id`)).toEqual([
    { id: 1, name: 'a', role: 'x' },
    { id: 2, name: 'b', role: 'y' },
  ]);
  expect(await tenantSql(`SELECT count(*)::int AS n FROM ${sentinel}`)).toEqual([{ n: 3 }]);
};

const drop = `; DROP TABLE ${sentinel}; --`;

describe('injection attempts', () => {
  it('in table names → 4xx', async () => {
    for (const t of [
      `${table}${drop}`,
      `${table}" ; DROP TABLE ${sentinel}; --`,
      `"${table}"`,
      `public.${table}.x`,
      `${table} WHERE 1=1`,
      `pg_catalog.pg_class`,
      `../${table}`,
    ]) {
      for (const op of ['fetch', 'delete', 'update', 'insert'] as const) {
        const res = await api.call(op, {
          table_name: t,
          insert_body: { id: 9 },
          update_body: { name: 'z' },
          conditions: [{ column: 'id', operator: 'eq', value: 1 }],
        });
        expect(res.status, `${op} ${t}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    }
    await expectUnchanged();
  });

  it('in column names, sort_by, on_conflict and body keys → 4xx', async () => {
    const col = `id"${drop}`;
    const bodies: [string, Record<string, unknown>][] = [
      ['fetch', { table_name: table, columns: col }],
      ['fetch', { table_name: table, columns: [`id, (SELECT 1)`] }],
      ['fetch', { table_name: table, sort_by: { field: `id${drop}` } }],
      ['fetch', { table_name: table, sort_by: { field: 'id', direction: `desc${drop}` } }],
      ['fetch', { table_name: table, conditions: [{ column: col, operator: 'eq', value: 1 }] }],
      ['fetch', { table_name: table, conditions: [{ column: 'id', operator: 'eq', value: 1, column_cast: `text${drop}` }] }],
      ['insert', { table_name: table, insert_body: { [col]: 1 } }],
      ['insert', { table_name: table, insert_body: { id: 5 }, on_conflict: `id) DO NOTHING${drop}` }],
      ['insert', { table_name: table, insert_body: { id: 1 }, update_body: { [`name = 'p'${drop}`]: 1 } }],
      ['update', { table_name: table, update_body: { [col]: 'z' }, conditions: [{ column: 'id', operator: 'eq', value: 1 }] }],
      ['delete', { table_name: table, conditions: [{ column: `1=1 OR id`, operator: 'eq', value: 1 }] }],
    ];
    for (const [op, body] of bodies) {
      const res = await api.call(op, body);
      expect(res.status, `${op} ${JSON.stringify(body)}: ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    await expectUnchanged();
  });

  it('in not/or strings → 4xx, or values compared as data', async () => {
    const refused = [`id.eq.1)${drop}`, `id.eq.1,id.eq.(SELECT 1)`, `and(id.eq.1${drop})`, `id;DROP.eq.1`, `id.eq.1 OR 1=1--.x`];
    for (const value of refused) {
      for (const operator of ['or', 'not']) {
        const res = await api.call('delete', { table_name: table, conditions: [{ operator, value }] });
        expect(res.status, `${operator} ${value}: ${res.text}`).toBeLessThan(500);
        if (res.status === 200) expect(res.body.count).toBe(0);
      }
    }
    // As values they are just text: nothing matches, nothing runs.
    const asValue = await api.call('fetch', {
      table_name: table,
      conditions: [{ operator: 'or', value: `name.eq."a'${drop}",role.in.("x'); DROP TABLE ${sentinel}; --")` }],
    });
    expect(asValue.status, asValue.text).toBe(200);
    expect(asValue.body.data).toEqual([]);
    await expectUnchanged();
  });

  it('in values → bound as data', async () => {
    for (const value of [`' OR '1'='1`, `1; DROP TABLE ${sentinel}`, `a'); DELETE FROM ${table}; --`, `$1`, `\\'`]) {
      const res = await api.call('fetch', { table_name: table, conditions: [{ column: 'name', operator: 'eq', value }] });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
      const upd = await api.call('update', { table_name: table, update_body: { role: value }, conditions: [{ column: 'name', operator: 'eq', value }] });
      expect(upd.body.count).toBe(0);
    }
    const like = await api.call('fetch', {
      table_name: table,
      conditions: [{ column: 'tags', operator: 'contains', value: [`t"}'; DROP TABLE ${sentinel}; --`] }],
    });
    expect(like.status).toBe(200);
    await expectUnchanged();
  });
});

describe('deeply nested values', () => {
  it('that fit the body limit but cannot be bound → 400, not 5xx', async () => {
    const depth = 200_000;
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const bodies: [string, string][] = [
      ['insert', `{"table_name":"${table}","insert_body":{"id":50,"meta":${nested}}}`],
      ['insert', `{"table_name":"${table}","insert_body":{"id":51,"name":${nested}}}`],
      ['fetch', `{"table_name":"${table}","conditions":[{"column":"meta","operator":"contains","value":${nested}}]}`],
    ];
    for (const [op, raw] of bodies) {
      const res = await api.call(op, undefined, { raw });
      expect(res.status, `${op}: ${res.text}`).toBe(400);
      expect(res.body.error?.code).toBe('invalid_request');
    }
    await expectUnchanged();
  });
});

/** Small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = 'fetch' | 'insert' | 'update' | 'delete';

describe('generated malformed bodies', () => {
  it('never answer 5xx (300 bodies over the four routes)', async () => {
    const rand = rng(20261127);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const junk: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      '',
      'x',
      '*',
      '"',
      '\u0000',
      'id',
      table,
      [],
      [null],
      {},
      { a: 1 },
      [[1]],
      'id.eq.1',
      '(',
      ')',
      ',',
      'é',
      Number.MAX_SAFE_INTEGER + 2,
    ];
    // Bodies are strict, so each route mostly gets its own fields (else nothing passes validation); a few get any field.
    const anyField = [
      'columns',
      'conditions',
      'limit',
      'offset',
      'current_page',
      'page_size',
      'sort_by',
      'count',
      'head',
      'strip_nulls',
      'insert_body',
      'update_body',
      'on_conflict',
      'default_to_null',
      'resource_id',
      'select',
      'where',
      'orderBy',
    ];
    const ownFields: Record<Op, readonly string[]> = {
      fetch: ['columns', 'conditions', 'limit', 'offset', 'current_page', 'page_size', 'sort_by', 'count', 'head', 'strip_nulls', 'select', 'where', 'orderBy'],
      insert: ['columns', 'count', 'head', 'strip_nulls', 'insert_body', 'update_body', 'on_conflict', 'default_to_null'],
      update: ['columns', 'conditions', 'strip_nulls', 'update_body', 'limit', 'offset', 'sort_by'],
      delete: ['columns', 'conditions', 'strip_nulls', 'resource_id', 'limit', 'offset', 'sort_by'],
    };
    const operators = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in', 'contains', 'containedBy', 'not', 'or', 'nope', ''];
    const columns = ['id', 'name', 'role', 'tags', 'meta', 'missing', '', '*'];
    const condition = () => {
      const c: Record<string, unknown> = { operator: pick(operators) };
      if (rand() < 0.8) c.column = rand() < 0.8 ? pick(columns) : pick(junk);
      if (rand() < 0.9) c.value = rand() < 0.5 ? pick(junk) : [pick(junk), pick(junk)];
      if (rand() < 0.1) c.column_cast = pick(['text', 'jsonb', 'bogus', '']);
      return rand() < 0.1 ? pick(junk) : c;
    };
    const body = (op: Op): unknown => {
      const fields = rand() < 0.1 ? anyField : ownFields[op];
      const b: Record<string, unknown> = { table_name: rand() < 0.85 ? table : pick(junk) };
      for (const f of fields) if (rand() < 0.12) b[f] = pick(junk);
      if (fields.includes('conditions') && rand() < 0.7) b.conditions = Array.from({ length: Math.floor(rand() * 4) }, condition);
      if (fields.includes('insert_body') && rand() < 0.8)
        b.insert_body = rand() < 0.5 ? { [pick(columns)]: pick(junk) } : [{ id: Math.floor(rand() * 1000) + 100, [pick(columns)]: pick(junk) }];
      if (fields.includes('update_body') && rand() < 0.8) b.update_body = { [pick(columns)]: pick(junk) };
      return rand() < 0.05 ? pick(junk) : b;
    };
    const methods: Record<string, readonly string[]> = {
      fetch: ['POST', 'GET'],
      insert: ['PUT', 'POST'],
      update: ['POST', 'PATCH'],
      delete: ['DELETE', 'POST'],
    };
    const seen = new Map<number, number>();
    for (let batch = 0; batch < 30; batch++) {
      const calls = Array.from({ length: 10 }, () => {
        const op = pick(['fetch', 'insert', 'update', 'delete'] as const);
        const b = body(op);
        const raw = rand() < 0.1 ? JSON.stringify(b).slice(0, Math.floor(rand() * 40)) : JSON.stringify(b);
        const method = pick(methods[op] ?? ['POST']);
        if (method === 'GET') {
          // GET carries the fields as query parameters (objects and arrays as JSON).
          const entries = typeof b === 'object' && b !== null && !Array.isArray(b) ? Object.entries(b) : [['table_name', b]];
          const q = new URLSearchParams(entries.map(([k, v]) => [String(k), typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]));
          return api.call(`/gateway/fetch?${q}`, undefined, { method }).then((res) => ({ res, op, raw: q.toString() }));
        }
        return api.call(op, undefined, { raw, method }).then((res) => ({ res, op, raw }));
      });
      for (const { res, op, raw } of await Promise.all(calls)) {
        expect(res.status, `${op} ${raw}: ${res.text}`).toBeLessThan(500);
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      }
    }
    // The generator reaches past validation, not only the parser.
    expect([...seen.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect(await tenantSql(`SELECT count(*)::int AS n FROM ${sentinel}`)).toEqual([{ n: 3 }]);
  });
});
