/**
 * Vitest global setup: one real Postgres (embedded on a free port, or TEST_DATABASE_URL's server),
 * a catalog DB (migrated) and a tenant DB, plus the WebSocket→TCP proxy the Neon driver uses inside
 * workerd. Values reach tests through `inject()`.
 */
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../dev/postgres.js';
import { startWsProxy, type WsProxy } from '../../dev/ws-proxy.js';
import { freePort } from '../../dev/ports.js';
import { migrateCatalog } from '../../drizzle/migrate.js';
import { nodeVersionProblem } from '../../dev/node-version.js';
import { startFlusherControl, TEST_FLUSH_SECRET, type FlusherControl } from './flusher-control.js';

let embedded: EmbeddedPg | undefined;
let proxy: WsProxy | undefined;
let flusherControl: FlusherControl | undefined;

export async function setup(project: TestProject): Promise<void> {
  const nodeProblem = nodeVersionProblem(process.version, 'npm test');
  if (nodeProblem) throw new Error(nodeProblem);
  // Declared once on the root config (see vitest.config.ts): exactly one Postgres per run, and
  // none when only pure unit tests run (`--project unit`).
  if (project.vitest.projects.every((p) => p.name === 'unit')) return;
  let admin: string;
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const u = new URL(external);
    u.pathname = '/postgres';
    admin = u.toString();
  } else {
    const port = await freePort();
    embedded = await startEmbeddedPostgres({ port, name: `test-${process.pid}-${port}`, persistent: false });
    admin = embedded.url('postgres');
  }
  const withDb = (db: string) => {
    const u = new URL(admin);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const suffix = `${process.pid}`;
  const catalogDb = `gateway_test_${suffix}`;
  const tenantDb = `tenant_test_${suffix}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => undefined);
    for (const db of [catalogDb, tenantDb]) {
      await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
  }
  await migrateCatalog(withDb(catalogDb));
  const pgUrl = new URL(admin);
  proxy = await startWsProxy({ port: 0, allow: [`${pgUrl.hostname}:${pgUrl.port || '5432'}`] });

  project.provide('adminDatabaseUrl', admin);
  project.provide('databaseUrl', withDb(catalogDb));
  project.provide('tenantDatabaseUrl', withDb(tenantDb));
  project.provide('wsProxy', proxy.url);
  // Real flushers (Node) for the stats tests inside workerd, started per test through this server.
  flusherControl = await startFlusherControl(withDb(catalogDb));
  project.provide('flusherControlUrl', flusherControl.url);
  project.provide('flushSigningSecret', TEST_FLUSH_SECRET);
}

export async function teardown(): Promise<void> {
  await flusherControl?.close();
  await proxy?.close();
  await embedded?.stop();
}
