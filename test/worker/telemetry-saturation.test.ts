/**
 * Telemetry saturated (docs/operations.md "Warning `telemetry_dropped`"): with LOG_TASK_LIMIT=1 and the log tables locked, the one
 * accepted telemetry task hangs on the lock, every other task is dropped and counted per kind, one
 * warning summarises the drops — and auth and data requests on the same database still answer,
 * never 503.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import app from '../../worker/index.js';
import { isolateFor } from '../../worker/isolate.js';
import { openSession } from '../../worker/db/session.js';
import { generateApiKey } from '../../crypto/key-format.js';
import { telemetrySnapshot } from '../../worker/telemetry/task.js';
import { baseEnv, databaseUrl, tenantDatabaseUrl } from './harness.js';
import { createClient, createKey, sql, uniqueName, withConnection, type SeededKey } from './seed.js';

const VARS = {
  LOG_TASK_LIMIT: '1',
  REQUEST_LOG: 'all',
  DB_POOL_MAX: '4',
  // The one accepted task waits on the lock until the test releases it, however long a loaded
  // machine takes to get there: at the default 5 s it could time out, free its permit and let a
  // second task in, and neither "exactly one accepted" nor "one row written" would hold.
  DB_STATEMENT_TIMEOUT_MS: '120000',
  LOG_DROP_WARN_INTERVAL_MS: '60000',
  TEST_ISOLATE: 'telemetry-saturation',
};
const VERIFY = 10;
const DATA = 10;
const BAD = 5;
const TOTAL = VERIFY + DATA + BAD;
const table = uniqueName('sat_items');

const unknown = generateApiKey(); // well-formed, never stored: 401 + an auth_attempt event
let client: string;
let good: SeededKey;

beforeAll(async () => {
  client = await createClient(undefined, { enforcement: 'required' });
  good = await createKey(client, { operations: ['read'], tables: ['*'] });
  await withConnection(tenantDatabaseUrl, async (s) => {
    await s.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await s.query(`INSERT INTO ${table} (id) VALUES (1)`);
  });
});

afterAll(async () => {
  await sql('DELETE FROM clients WHERE client_name = $1', [client]);
  await withConnection(tenantDatabaseUrl, (s) => s.query(`DROP TABLE IF EXISTS ${table}`));
});

describe('telemetry saturation', () => {
  it('drops and counts telemetry, warns once, and auth and data requests keep answering without 503', async () => {
    const warn = vi.spyOn(console, 'warn');
    const run = crypto.randomUUID();
    // The log tables, not seed's lockTable (which serves the auth tables): held on its own connection.
    const locker = await openSession(databaseUrl, { statementTimeoutMs: 120_000, localWsProxy: baseEnv.NEON_LOCAL_WS_PROXY });
    let released = false;
    const contexts: ExecutionContext[] = [];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE gateway_request_log, auth_attempt_log, admission_events IN ACCESS EXCLUSIVE MODE');

      let n = 0;
      const call = (path: string, key: string, init: RequestInit = {}) => {
        const ctx = createExecutionContext();
        contexts.push(ctx);
        const headers = { 'x-athena-key': key, 'x-athena-client': client, 'content-type': 'application/json', 'x-request-id': `sat-${run}-${n++}` };
        return app.fetch(new Request(`http://gateway${path}`, { ...init, headers }), { ...baseEnv, ...VARS }, ctx);
      };
      const fetchBody = JSON.stringify({ table_name: table, columns: 'id' });
      const responses = await Promise.all([
        ...Array.from({ length: VERIFY }, () => call('/v1/auth/verify', good.key)),
        ...Array.from({ length: DATA }, () => call('/gateway/fetch', good.key, { method: 'POST', body: fetchBody })),
        ...Array.from({ length: BAD }, () => call('/v1/auth/verify', unknown.key)),
      ]);
      // Every answer came back while the log tables were still locked.
      expect(responses.map((r) => r.status)).toEqual([...Array<number>(VERIFY + DATA).fill(200), ...Array<number>(BAD).fill(401)]);
      expect(((await responses[0]?.json()) as { data: { client: string } } | undefined)?.data.client).toBe(client);
      expect(((await responses[VERIFY]?.json()) as { data: unknown } | undefined)?.data).toEqual([{ id: 1 }]);

      const entry = isolateFor({ ...baseEnv, ...VARS });
      if (!entry.ok) throw new Error('bad vars');
      const during = telemetrySnapshot(entry.isolate.services.telemetry);
      expect(during).toMatchObject({ limit: 1, inFlight: 1, maxInFlight: 1, accepted: 1 });
      // One task holds the only permit (stuck on the lock); every other request's events were dropped.
      expect(during.dropped.request).toBe(TOTAL - 1);
      expect(during.droppedByReason).toEqual({ saturated: during.dropped.request + during.dropped.auth_attempt, unavailable: 0, failed: 0 });
      expect(during.dropped.auth_attempt).toBeGreaterThanOrEqual(BAD - 1);

      const dropWarnings = warn.mock.calls
        .map(([line]) => (typeof line === 'string' ? (JSON.parse(line) as Record<string, unknown>) : {}))
        .filter((l) => l.event === 'telemetry_dropped');
      expect(dropWarnings).toHaveLength(1);
      // The first drop warns at once (one task: a request event, plus an auth attempt on a 401).
      const first = dropWarnings[0] as { request: number; auth_attempt: number; saturated: number };
      expect(first).toMatchObject({ level: 'warn', logTaskLimit: 1, request: 1, unavailable: 0, failed: 0 });
      expect(first.saturated).toBe(first.request + first.auth_attempt);

      await locker.query('COMMIT');
      released = true;
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));

      const after = telemetrySnapshot(entry.isolate.services.telemetry);
      expect(after.inFlight).toBe(0);
      expect(after.written.request).toBe(1);
      expect(after.written.request + after.dropped.request).toBe(TOTAL);
      expect(after.written.auth_attempt + after.dropped.auth_attempt).toBe(BAD);
      const count = async (table: string) =>
        (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE request_id LIKE $1`, [`sat-${run}-%`]))[0]?.n;
      expect(await count('gateway_request_log')).toBe(1);
      expect(await count('auth_attempt_log')).toBe(after.written.auth_attempt);
    } finally {
      warn.mockRestore();
      if (!released) await locker.query('ROLLBACK').catch(() => undefined);
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx).catch(() => undefined)));
      await locker.close();
    }
  });
});
