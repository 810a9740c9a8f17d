/**
 * Catalog migrations: they apply to an empty database, and running them again (library or
 * `npm run db:migrate`) is a no-op that keeps the data. Each test run uses a scratch database.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { migrateCatalog, MIGRATIONS_FOLDER } from '../../drizzle/migrate.js';
import { runEntry } from './run-entry.js';
import { queryOnce } from '../support/query-once.js';

const CATALOG_TABLES = [
  'admission_events',
  'api_keys',
  'auth_attempt_log',
  'client_statistics',
  'client_table_statistics',
  'clients',
  'flush_batches',
  'gateway_request_log',
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
  (await queryOnce<{ table_name: string }>(scratchUrl, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map((r) => r.table_name);
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
    const options = await queryOnce<{ relname: string; reloptions: string[] | null }>(scratchUrl, "SELECT relname, reloptions FROM pg_class WHERE relname IN ('client_statistics', 'client_table_statistics') ORDER BY 1");
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

  it('npm run db:migrate (cli/migrate.ts) succeeds on a migrated DB without printing credentials', async () => {
    const res = await runEntry('cli/migrate.ts', [], { env: { ...process.env, DATABASE_URL: scratchUrl } });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`migrations applied to postgres://127.0.0.1:${new URL(scratchUrl).port}/${scratch}`);
    const u = new URL(scratchUrl);
    expect(res.stdout + res.stderr).not.toContain(`${u.username}:${u.password}@`);
  });

  it('npm run db:migrate without DATABASE_URL is a usage error', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const res = await runEntry('cli/migrate.ts', [], { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('DATABASE_URL is not set');
  });
});
