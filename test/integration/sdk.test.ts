/**
 * The real client: `@xylex-group/athena` (0.2.1) drives select, insert, upsert, update and delete
 * against the worker served over HTTP, with a real tenant database; assertions read Postgres.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createClient } from '@xylex-group/athena';
import { clientWithKey } from '../support/served-client.js';

const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const table = `sdk_characters_${process.pid}_${Date.now().toString(36)}`;
const clientName = `sdk-${process.pid}-${Date.now().toString(36)}`;

/** The run's one served worker (test/setup/global.ts). */
const gatewayUrl = inject('gatewayUrl');
let tenant: pg.Client;
let apiKey: string;

/** What the SDK resolves to: `data` is the gateway's whole JSON body. */
type Body<T> = { data: T[]; count: number | null };
type Character = { id?: number; name: string; role?: string | null; level?: number; tags?: string[] };

const rows = async (where = 'true', params: unknown[] = []) =>
  (await tenant.query<Character>(`SELECT id, name, role, level FROM ${table} WHERE ${where} ORDER BY id`, params)).rows;

beforeAll(async () => {
  tenant = new pg.Client({ connectionString: tenantDatabaseUrl });
  await tenant.connect();
  await tenant.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text UNIQUE NOT NULL, role text, level int NOT NULL DEFAULT 1, tags text[])`);
  apiKey = await clientWithKey(databaseUrl, clientName, { operations: ['read', 'insert', 'update', 'delete'], tables: [table] });
});

afterAll(async () => {
  await tenant?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await tenant?.end();
});

const athena = () => createClient(gatewayUrl, apiKey, { client: clientName });

describe('@xylex-group/athena against the worker', () => {
  it('insert (single and multi) lands rows in Postgres and returns them', async () => {
    const one = await athena().from<Character>(table).insert({ name: 'Frodo', role: 'hobbit', level: 3 }).select('id,name');
    expect(one.status).toBe(201);
    expect(one.error).toBeNull();
    expect((one.data as unknown as Body<Character>).data).toEqual([{ id: expect.any(Number), name: 'Frodo' }]);
    const many = await athena()
      .from<Character>(table)
      .insert([{ name: 'Sam', role: 'hobbit', level: 2 }, { name: 'Gandalf', role: 'wizard', level: 20, tags: ['istari'] }, { name: 'Gimli' }]);
    expect(many.status).toBe(201);
    expect((many.data as unknown as Body<Character>).count).toBe(3);
    expect(await rows()).toEqual([
      { id: expect.any(Number), name: 'Frodo', role: 'hobbit', level: 3 },
      { id: expect.any(Number), name: 'Sam', role: 'hobbit', level: 2 },
      { id: expect.any(Number), name: 'Gandalf', role: 'wizard', level: 20 },
      { id: expect.any(Number), name: 'Gimli', role: null, level: 1 },
    ]);
  });

  it('select with filters, not/or, range and strip_nulls', async () => {
    const hobbits = await athena().from<Character>(table).eq('role', 'hobbit').gt('level', 2).select('name');
    expect(hobbits.status).toBe(200);
    expect((hobbits.data as unknown as Body<Character>).data).toEqual([{ name: 'Frodo' }]);
    const notHobbits = await athena().from<Character>(table).not('role', 'eq', 'hobbit').select('name');
    expect((notHobbits.data as unknown as Body<Character>).data.map((r) => r.name).sort()).toEqual(['Gandalf']);
    const either = await athena().from<Character>(table).or('role.eq.wizard,level.lt.2').select('name');
    expect((either.data as unknown as Body<Character>).data.map((r) => r.name).sort()).toEqual(['Gandalf', 'Gimli']);
    const within = await athena().from<Character>(table).in('name', ['Sam', 'Gimli', 'Nobody']).select('name');
    expect((within.data as unknown as Body<Character>).data.map((r) => r.name).sort()).toEqual(['Gimli', 'Sam']);
    const istari = await athena().from<Character>(table).contains('tags', ['istari']).select('name');
    expect((istari.data as unknown as Body<Character>).data).toEqual([{ name: 'Gandalf' }]);
    const page = await athena().from<Character>(table).ilike('name', '%a%').range(0, 1).select('name');
    expect((page.data as unknown as Body<Character>).data).toHaveLength(2);
    const gimli = await athena().from<Character>(table).eq('name', 'Gimli').select('name,role', { stripNulls: false });
    expect((gimli.data as unknown as Body<Character>).data).toEqual([{ name: 'Gimli', role: null }]);
    const stripped = await athena().from<Character>(table).eq('name', 'Gimli').select('name,role');
    expect((stripped.data as unknown as Body<Character>).data).toEqual([{ name: 'Gimli' }]);
  });

  it('upsert with and without updateBody', async () => {
    const merged = await athena().from<Character>(table).upsert({ name: 'Sam', level: 5 }, { onConflict: 'name' });
    expect(merged.status).toBe(201);
    expect(await rows('name = $1', ['Sam'])).toMatchObject([{ level: 5, role: 'hobbit' }]);
    const explicit = await athena()
      .from<Character>(table)
      .upsert({ name: 'Sam', level: 99 }, { onConflict: ['name'], updateBody: { role: 'gardener' } })
      .select('name,role,level');
    expect((explicit.data as unknown as Body<Character>).data).toEqual([{ name: 'Sam', role: 'gardener', level: 5 }]);
    expect(await rows('name = $1', ['Sam'])).toMatchObject([{ level: 5, role: 'gardener' }]);
  });

  it('update changes only the filtered rows', async () => {
    const res = await athena().from<Character>(table).eq('role', 'wizard').update({ level: 21 }).select('name,level');
    expect(res.status).toBe(200);
    expect((res.data as unknown as Body<Character>).data).toEqual([{ name: 'Gandalf', level: 21 }]);
    expect((await rows()).map((r) => [r.name, r.level])).toEqual([
      ['Frodo', 3],
      ['Sam', 5],
      ['Gandalf', 21],
      ['Gimli', 1],
    ]);
  });

  it('delete by eq("id") and by resourceId', async () => {
    const [gimli, frodo] = [(await rows('name = $1', ['Gimli']))[0], (await rows('name = $1', ['Frodo']))[0]];
    const byEq = await athena()
      .from<Character>(table)
      .eq('id', gimli?.id ?? -1)
      .delete();
    expect(byEq.status).toBe(200);
    expect((byEq.data as unknown as Body<Character>).count).toBe(1);
    const byResource = await athena()
      .from<Character>(table)
      .delete({ resourceId: String(frodo?.id) });
    expect(byResource.status).toBe(200);
    expect((await rows()).map((r) => r.name)).toEqual(['Sam', 'Gandalf']);
  });

  it('errors reach the app as a non-2xx status with the envelope in data', async () => {
    const res = await athena().from(table).insert({ name: 'Sam' });
    expect(res.status).toBe(409);
    expect((res.data as unknown as { error: { code: string; message: string } }).error).toMatchObject({ code: 'conflict', message: expect.any(String) });
    const denied = await athena().from('some_other_table').select();
    expect(denied.status).toBe(403);
  });

  it('works from the unified root URL (/db prefix)', async () => {
    const res = await createClient(`${gatewayUrl}/db`, apiKey, { client: clientName }).from<Character>(table).eq('name', 'Sam').select('name');
    expect((res.data as unknown as Body<Character>).data).toEqual([{ name: 'Sam' }]);
  });
});
