/**
 * Hostile corpus for `POST /gateway/transaction` and its idempotency records: a replay is answered
 * only to the key that ran it and only after that key's checks, another key's identical body runs
 * on its own, a body too deep to hash is the 400 it is without a key, a replay is byte-identical,
 * and after any fault around the store or the COMMIT a retry gets a definitive answer (never
 * "retry" for what committed, never "still running" past the reservation's life). And closing a
 * session whose backend died settles at once and quietly. The secret never appears in any answer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { newClient } from '../../worker/db/client.js';
import { openSession } from '../../worker/db/session.js';
import { canonicalJson, requestHash } from '../../worker/gateway/request-hash.js';
import { adminDatabaseUrl, databaseUrl, fetchWith, tenantDatabaseUrl } from './harness.js';
import { ALL_SCOPES, createClient, createKey, sql, withConnection } from './seed.js';
import { tableName, tenantSql } from './gateway-support.js';
import { catalogLogRows, expectNoTrace, withWorkerLog } from './traces.js';

const SECRET = `hunter2-${crypto.randomUUID()}`;
const users = tableName('hx_users');
const todos = tableName('hx_todos');
const ISOLATE = { TEST_ISOLATE: 'hostile-transaction' };

type Answer = {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: { committed?: boolean; results?: { data: unknown[] }[] }; error?: { code: string; message: string } };
};
type Key = { id: string; call(body: unknown, raw?: string, vars?: Record<string, string>): Promise<Answer> };

let client: string;
let all: Key;
let readTodos: Key;
let readUsers: Key;

async function keyOf(scopes: Parameters<typeof createKey>[1]): Promise<Key> {
  const { key, id } = await createKey(client, scopes);
  return {
    id,
    async call(body, raw, vars) {
      const res = await fetchWith({ ...ISOLATE, ...vars }, 'http://gateway/gateway/transaction', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': client, 'x-athena-key': key },
        body: raw ?? JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Answer['body'] };
    },
  };
}

/** Neither the body nor any header carries the secret. */
function expectNoSecret(a: Answer): void {
  expect(a.text).not.toContain(SECRET);
  for (const [, v] of a.headers) expect(v).not.toContain(SECRET);
}

const readSecrets = (idem: string | null) => ({
  idempotency_key: idem,
  operations: [{ id: 'a', kind: 'fetch', payload: { table_name: users, columns: 'name,password' } }],
});
const insertTodo = (idem: string | null, title: string) => ({
  idempotency_key: idem,
  operations: [{ id: 'i', kind: 'insert', payload: { table_name: todos, insert_body: { title } } }],
});
const records = (idem: string) =>
  sql<{ key_id: string }>(`SELECT key_id FROM transaction_idempotency WHERE client_name = $1 AND idempotency_key = $2 ORDER BY key_id`, [client, idem]);
const todoCount = async (title: string) => (await tenantSql<{ n: number }>(`SELECT count(*)::int AS n FROM ${todos} WHERE title = $1`, [title]))[0]?.n;

beforeAll(async () => {
  await tenantSql(`CREATE TABLE ${users} (id serial PRIMARY KEY, name text, password text)`);
  await tenantSql(`INSERT INTO ${users} (name, password) VALUES ('ann', $1)`, [SECRET]);
  await tenantSql(`CREATE TABLE ${todos} (id serial PRIMARY KEY, title text, z_last int DEFAULT 1, a_first int DEFAULT 2)`);
  client = await createClient();
  all = await keyOf(ALL_SCOPES);
  readTodos = await keyOf({ operations: ['read'], tables: [todos] });
  readUsers = await keyOf({ operations: ['read'], tables: [users] });
});

describe('finding 1: a record belongs to the key that ran it, after its checks', () => {
  it("a read-only key replaying another key's body gets the 403 it gets without the key, never the stored rows", async () => {
    const idem = `order-${crypto.randomUUID()}`;
    const first = await all.call(readSecrets(idem));
    expect(first.status, first.text).toBe(200);
    expect(first.text).toContain(SECRET);
    const withoutKey = await readTodos.call(readSecrets(null));
    const replay = await readTodos.call(readSecrets(idem));
    expect([withoutKey.status, withoutKey.body.error?.code]).toEqual([403, 'scope_denied']);
    expect([replay.status, replay.body.error?.code, replay.body.error?.message]).toEqual([403, 'scope_denied', withoutKey.body.error?.message]);
    expect(replay.headers.get('idempotent-replayed')).toBeNull();
    expectNoSecret(withoutKey);
    expectNoSecret(replay);
    expect((await records(idem)).map((r) => r.key_id)).toEqual([all.id]);
  });

  it("another key's identical body runs on its own record: not replayed, and the first key's record is untouched", async () => {
    const idem = `order-${crypto.randomUUID()}`;
    const other = await keyOf(ALL_SCOPES);
    const first = await all.call(insertTodo(idem, idem));
    const second = await other.call(insertTodo(idem, idem));
    expect([first.status, second.status, second.headers.get('idempotent-replayed')]).toEqual([200, 200, null]);
    expect(await todoCount(idem)).toBe(2);
    // Each key replays its own answer; a different body under the same idempotency_key conflicts only with the key's own.
    const again = await all.call(insertTodo(idem, idem));
    expect([again.status, again.headers.get('idempotent-replayed'), again.text]).toEqual([200, 'true', first.text]);
    const reader = await readUsers.call(readSecrets(idem));
    expect([reader.status, reader.headers.get('idempotent-replayed')]).toEqual([200, null]);
    expect(await todoCount(idem)).toBe(2);
    expect((await records(idem)).map((r) => r.key_id).sort()).toEqual([all.id, other.id, readUsers.id].sort());
  });

  it('a low-privilege key cannot burn a key: its refused attempt leaves no record, its own run binds only itself', async () => {
    const idem = `order-${crypto.randomUUID()}`;
    const refused = await readTodos.call(insertTodo(idem, 'burn'));
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'scope_denied']);
    expect(await records(idem)).toEqual([]);
    const own = await readTodos.call({ idempotency_key: idem, operations: [{ id: 'f', kind: 'fetch', payload: { table_name: todos, columns: 'id' } }] });
    expect(own.status, own.text).toBe(200);
    const victim = await all.call(insertTodo(idem, idem));
    expect([victim.status, victim.headers.get('idempotent-replayed')], victim.text).toEqual([200, null]);
    expect(await todoCount(idem)).toBe(1);
  });
});

describe('finding 1: what a replay attempt leaves behind', () => {
  const logged = { REQUEST_LOG: 'all' };

  it("the stored rows reach no answer, header, worker log or log table of another key's replay", async () => {
    const idem = `order-${crypto.randomUUID()}`;
    const { result: first, lines } = await withWorkerLog(() => all.call(readSecrets(idem), undefined, logged));
    expect(first.status, first.text).toBe(200);
    expect(first.text).toContain(SECRET);
    // The key that may read it gets it in its body, and nowhere else either.
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(JSON.stringify(await catalogLogRows(first.headers.get('x-request-id') ?? ''))).not.toContain(SECRET);
    const replay = await expectNoTrace(() => readTodos.call(readSecrets(idem), undefined, logged), [SECRET]);
    expect([replay.status, replay.body.error?.code]).toEqual([403, 'scope_denied']);
    const changed = await expectNoTrace(() => all.call({ ...readSecrets(idem), options: { read_only: true } }, undefined, logged), [SECRET]);
    expect([changed.status, changed.body.error?.message]).toEqual([409, 'idempotency_key was already used with a different body']);
  });
});

describe('finding 7: a body too deep to hash', () => {
  it('100,000 arrays deep gets the same 400 with idempotency_key as without, before any session', async () => {
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const raw = (idem: string | null) =>
      `{"idempotency_key":${JSON.stringify(idem)},"operations":[{"id":"i","kind":"insert","payload":{"table_name":"${todos}","insert_body":{"title":${deep}}}}]}`;
    const without = await all.call(null, raw(null));
    const withKey = await all.call(null, raw(`deep-${crypto.randomUUID()}`));
    expect([without.status, without.body.error?.code]).toEqual([400, 'invalid_request']);
    expect([withKey.status, withKey.body.error]).toEqual([without.status, without.body.error]);
  });
});

describe('finding 12: exactly-once answers', () => {
  it('a replay is byte-identical to the first answer (the response is stored as text)', async () => {
    const idem = `bytes-${crypto.randomUUID()}`;
    const body = {
      idempotency_key: idem,
      operations: [{ id: 'i', kind: 'insert', payload: { table_name: todos, insert_body: { title: idem }, columns: 'z_last,title,a_first,id' } }],
    };
    const first = await all.call(body);
    const replay = await all.call(body);
    expect(first.status, first.text).toBe(200);
    expect(first.text.indexOf('"z_last"')).toBeLessThan(first.text.indexOf('"a_first"'));
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.headers.get('content-type')]).toEqual([
      200,
      'true',
      first.headers.get('content-type'),
    ]);
    expect(replay.text).toBe(first.text);
  });

  it('the store before COMMIT fails: 503 with Retry-After, nothing committed; the retry is definitive and applies once', async () => {
    const idem = `fault-${crypto.randomUUID()}`;
    await withTrigger(idem, async () => {
      const failed = await all.call(insertTodo(idem, idem));
      expect([failed.status, failed.body.error?.code, failed.headers.get('retry-after')], failed.text).toEqual([503, 'database_unavailable', '1']);
      expect(await todoCount(idem)).toBe(0);
    });
    const retry = await all.call(insertTodo(idem, idem));
    expect(retry.status, retry.text).toBe(200);
    expect(await todoCount(idem)).toBe(1);
    expect((await all.call(insertTodo(idem, idem))).headers.get('idempotent-replayed')).toBe('true');
    expect(await todoCount(idem)).toBe(1);
  });

  it('a read whose store after COMMIT fails is still answered 200, and its retry at once gets a definitive 200', async () => {
    const idem = `fault-${crypto.randomUUID()}`;
    const body = { idempotency_key: idem, operations: [{ id: 'f', kind: 'fetch', payload: { table_name: todos, columns: 'id' } }] };
    await withTrigger(idem, async () => {
      const first = await all.call(body);
      expect(first.status, first.text).toBe(200);
      const retry = await all.call(body);
      expect(retry.status, retry.text).toBe(200);
    });
  });

  it('a record left by a run that died is resolved by the tenant: committed → its stored answer; aborted → runs', async () => {
    const committed = `crash-${crypto.randomUUID()}`;
    const xid = await tenantXid(committed, 'COMMIT');
    const stored = '{"data":{"committed":true,"results":[{"id":"i","ok":true,"status":201,"data":[],"count":1}]}}';
    await plantRecord(committed, { response: stored, xid });
    const replay = await all.call(insertTodo(committed, committed));
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([200, 'true', stored]);
    expect(await todoCount(committed)).toBe(1);

    const aborted = `crash-${crypto.randomUUID()}`;
    await plantRecord(aborted, { response: stored, xid: await tenantXid(aborted, 'ROLLBACK') });
    const rerun = await all.call(insertTodo(aborted, aborted));
    expect([rerun.status, rerun.headers.get('idempotent-replayed')], rerun.text).toEqual([200, null]);
    expect(await todoCount(aborted)).toBe(1);
  });

  it('a reservation that never stored: 409 with Retry-After while its run could live, taken over after', async () => {
    const idem = `crash-${crypto.randomUUID()}`;
    await plantRecord(idem, { response: null, xid: null });
    const running = await all.call(insertTodo(idem, idem));
    expect([running.status, running.body.error?.code], running.text).toEqual([409, 'conflict']);
    const retryAfter = Number(running.headers.get('retry-after'));
    // The defaults (TRANSACTION_TIMEOUT_MS 10 s + one 5 s statement): a reservation lives at most 15 s without a response.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(15);
    await sql(`UPDATE transaction_idempotency SET created_at = now() - interval '16 seconds' WHERE client_name = $1 AND idempotency_key = $2`, [client, idem]);
    const takenOver = await all.call(insertTodo(idem, idem));
    expect([takenOver.status, takenOver.headers.get('idempotent-replayed')], takenOver.text).toEqual([200, null]);
    expect(await todoCount(idem)).toBe(1);
  });
});

describe('the catalog is the tenant database', () => {
  it('records ride on the tenant session: stored with the transaction, replayed byte for byte, released on failure', async () => {
    const t = tableName('hx_same');
    await sql(`CREATE TABLE ${t} (id serial PRIMARY KEY, label text UNIQUE)`);
    const same = await createClient(undefined, { databaseUrl });
    const { key } = await createKey(same, ALL_SCOPES);
    const call = async (idem: string, label: string) => {
      const res = await fetchWith(ISOLATE, 'http://gateway/gateway/transaction', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-athena-client': same, 'x-athena-key': key },
        body: JSON.stringify({ idempotency_key: idem, operations: [{ id: 'i', kind: 'insert', payload: { table_name: t, insert_body: { label } } }] }),
      });
      return { status: res.status, replayed: res.headers.get('idempotent-replayed'), text: await res.text() };
    };
    const idem = `same-${crypto.randomUUID()}`;
    const first = await call(idem, 'one');
    expect(first.status, first.text).toBe(200);
    expect(await call(idem, 'one')).toEqual({ ...first, replayed: 'true' });
    const dup = `same-${crypto.randomUUID()}`;
    expect((await call(dup, 'one')).status).toBe(409);
    expect(await sql(`SELECT 1 FROM transaction_idempotency WHERE client_name = $1 AND idempotency_key = $2`, [same, dup])).toEqual([]);
    expect((await call(dup, 'two')).status).toBe(200);
    expect(await sql<{ label: string }>(`SELECT label FROM ${t} ORDER BY id`)).toEqual([{ label: 'one' }, { label: 'two' }]);
  });
});

describe('a session whose backend died', () => {
  it('closes at once and quietly, instead of waiting for an end that already came', async () => {
    const session = await openSession(tenantDatabaseUrl, { statementTimeoutMs: 5000, localWsProxy: inject('wsProxy') });
    const pid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await withConnection(adminDatabaseUrl, (s) => s.query('SELECT pg_terminate_backend($1)', [pid]));
    await expect(session.query('SELECT 1')).rejects.toThrow();
    const outcome = await Promise.race([session.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 2000))]);
    expect(outcome).toBe('closed');
  });

  it('drops a frame for a socket the far end closed, instead of an uncaught "send() after close()"', async () => {
    // The driver sends on a timer without looking at the socket; the gateway's socket class checks it.
    const Socket = newClient(tenantDatabaseUrl, inject('wsProxy')).neonConfig.webSocketConstructor;
    expect(Socket, 'the driver is given the gateway socket class').toBeDefined();
    if (!Socket) return;
    const ws = new Socket(`ws://${inject('wsProxy')}/v1?address=127.0.0.1:1`);
    await new Promise((closed) => ws.addEventListener('close', closed));
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(() => ws.send(new Uint8Array([0]))).not.toThrow();
  });
});

/** Runs `fn` while a trigger on the catalog's records fails every UPDATE of this idempotency key. */
async function withTrigger(idem: string, fn: () => Promise<void>): Promise<void> {
  const name = `fail_${idem.replace(/\W/g, '_')}`;
  await sql(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
  await sql(`CREATE TRIGGER ${name} BEFORE UPDATE ON transaction_idempotency FOR EACH ROW WHEN (NEW.idempotency_key = '${idem}') EXECUTE FUNCTION ${name}()`);
  try {
    await fn();
  } finally {
    await sql(`DROP TRIGGER ${name} ON transaction_idempotency`);
    await sql(`DROP FUNCTION ${name}()`);
  }
}

/** A tenant transaction that inserts `title` and ends with `end`; returns its transaction id. */
async function tenantXid(title: string, end: 'COMMIT' | 'ROLLBACK'): Promise<string> {
  return withConnection(tenantDatabaseUrl, async (s) => {
    await s.query('BEGIN');
    await s.query(`INSERT INTO ${todos} (title) VALUES ($1)`, [title]);
    const xid = (await s.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]?.xid ?? '';
    await s.query(end);
    return xid;
  });
}

/** The record a run of `all` left when it died after reserving (response null) or after storing. */
async function plantRecord(idem: string, r: { response: string | null; xid: string | null }): Promise<void> {
  const body = insertTodo(idem, idem);
  await sql(
    `INSERT INTO transaction_idempotency (client_name, key_id, idempotency_key, request_hash, attempt, status, response, tenant_xid) VALUES ($1, $2, $3, $4, gen_random_uuid(), $5, $6, $7)`,
    [
      client,
      all.id,
      idem,
      await requestHash(canonicalJson({ operations: body.operations, options: {} }) ?? ''),
      r.response === null ? null : 200,
      r.response,
      r.xid,
    ],
  );
}
