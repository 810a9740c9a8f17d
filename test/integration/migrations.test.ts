/**
 * Catalog migrations: they apply to an empty database, and running them again (library or
 * `npm run db:migrate`) is a no-op that keeps the data. Each test run uses a scratch database. The
 * script as a process (its env, output and exit codes): test/e2e/cli-entry.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { migrateCatalog, MIGRATIONS_FOLDER } from '../../drizzle/migrate.js';
import { queryOnce } from '../support/query-once.js';

const CATALOG_TABLES = [
  'admission_events',
  'api_keys',
  'auth_attempt_log',
  'catalog_changes',
  'catalog_epoch',
  'client_statistics',
  'client_table_statistics',
  'clients',
  'flush_batches',
  'gateway_request_log',
  'isolate_snapshots',
  'transaction_idempotency',
];

const admin = inject('adminDatabaseUrl');
const scratch = `migrations_test_${process.pid}_${Date.now()}`;
const scratchUrl = (() => {
  const u = new URL(admin);
  u.pathname = `/${scratch}`;
  return u.toString();
})();
const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };

const publicTables = async () =>
  (await queryOnce<{ table_name: string }>(scratchUrl, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map(
    (r) => r.table_name,
  );
const applied = async () => (await queryOnce<{ hash: string }>(scratchUrl, 'SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')).map((r) => r.hash);

beforeAll(async () => {
  await queryOnce(admin, `CREATE DATABASE "${scratch}"`);
});

afterAll(async () => {
  await queryOnce(admin, `DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
});

describe('catalog migrations', () => {
  it('apply to an empty database: every catalog table, one ledger row per journal entry', async () => {
    expect(await publicTables()).toEqual([]);
    await migrateCatalog(scratchUrl);
    expect(await publicTables()).toEqual(CATALOG_TABLES);
    expect(await applied()).toHaveLength(journal.entries.length);
    // The hot counter tables leave half of each page free for HOT updates.
    const options = await queryOnce<{ relname: string; reloptions: string[] | null }>(
      scratchUrl,
      "SELECT relname, reloptions FROM pg_class WHERE relname IN ('client_statistics', 'client_table_statistics') ORDER BY 1",
    );
    expect(options).toEqual([
      { relname: 'client_statistics', reloptions: ['fillfactor=50'] },
      { relname: 'client_table_statistics', reloptions: ['fillfactor=50'] },
    ]);
  });

  it('run again as a no-op that keeps existing rows', async () => {
    await queryOnce(scratchUrl, "INSERT INTO clients (client_name) VALUES ('kept')");
    const before = await applied();
    await migrateCatalog(scratchUrl);
    expect(await applied()).toEqual(before);
    expect(await publicTables()).toEqual(CATALOG_TABLES);
    expect(await queryOnce(scratchUrl, 'SELECT client_name FROM clients')).toEqual([{ client_name: 'kept' }]);
  });

  it('record every auth-relevant change of keys and clients, whoever writes it, and nothing else', async () => {
    const changes = async () =>
      queryOnce<{ epoch: string; kind: string; client_name: string | null; key_id: string | null }>(
        scratchUrl,
        'SELECT epoch, kind, client_name, key_id FROM catalog_changes ORDER BY epoch',
      );
    const epoch = async () => Number((await queryOnce<{ epoch: string }>(scratchUrl, 'SELECT epoch FROM catalog_epoch'))[0]?.epoch);
    await queryOnce(scratchUrl, "INSERT INTO clients (client_name) VALUES ('trig')");
    const [row] = await queryOnce<{ id: string }>(
      scratchUrl,
      `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ('trig', 'k', 'ath_trig', repeat('a', 64), '{"operations":[],"tables":[]}') RETURNING id`,
    );
    const id = row?.id ?? '';
    // Creating and using a key (the flushes' last_used_at) changes nothing a cache holds.
    await queryOnce(scratchUrl, "UPDATE api_keys SET last_used_at = now(), name = 'renamed' WHERE id = $1", [id]);
    await queryOnce(scratchUrl, "UPDATE clients SET updated_at = now() WHERE client_name = 'trig'");
    expect(await changes()).toEqual([]);
    expect(await epoch()).toBe(0);
    // An operator's own SQL, as a role with no right on the change tables: recorded all the same.
    await queryOnce(scratchUrl, 'CREATE ROLE trig_operator');
    await queryOnce(scratchUrl, 'GRANT SELECT, UPDATE, DELETE ON api_keys, clients TO trig_operator');
    await queryOnce(
      scratchUrl,
      `BEGIN; SET LOCAL ROLE trig_operator; UPDATE api_keys SET revoked_at = now() WHERE id = '${id}'; UPDATE clients SET is_frozen = true WHERE client_name = 'trig'; COMMIT`,
    );
    await queryOnce(scratchUrl, "UPDATE clients SET rate_limit_requests = 5, rate_limit_period_s = 1 WHERE client_name = 'trig'");
    await queryOnce(scratchUrl, "UPDATE clients SET client_name = 'trig2' WHERE client_name = 'trig'"); // cascades to the key's client_name
    await queryOnce(scratchUrl, 'DELETE FROM api_keys WHERE id = $1', [id]);
    await queryOnce(scratchUrl, 'TRUNCATE api_keys');
    expect(await changes()).toEqual([
      { epoch: '1', kind: 'key', client_name: 'trig', key_id: id },
      { epoch: '2', kind: 'client', client_name: 'trig', key_id: null },
      { epoch: '3', kind: 'client', client_name: 'trig', key_id: null },
      { epoch: '4', kind: 'client', client_name: 'trig', key_id: null },
      { epoch: '5', kind: 'client', client_name: 'trig2', key_id: null },
      { epoch: '6', kind: 'key', client_name: 'trig', key_id: id },
      { epoch: '7', kind: 'key', client_name: 'trig2', key_id: id },
      { epoch: '8', kind: 'all', client_name: null, key_id: null },
    ]);
    expect(await epoch()).toBe(8);
    // A write that rolls back leaves neither a change nor a gap in the epochs.
    await queryOnce(scratchUrl, "BEGIN; UPDATE clients SET is_active = false WHERE client_name = 'trig2'; ROLLBACK");
    expect(await epoch()).toBe(8);
    await queryOnce(scratchUrl, "DELETE FROM clients WHERE client_name = 'trig2'");
    await queryOnce(scratchUrl, 'DROP OWNED BY trig_operator; DROP ROLE trig_operator');
  });
});
