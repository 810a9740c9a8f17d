/**
 * For Node-side tests of the served worker: a client with one key in the catalog (created exactly
 * as the CLI does, signed with the test key-signing secret) and the worker on the test databases
 * with the direct stats sink (started once per run by test/setup/global.ts).
 */
import { openCatalog } from '../../catalog/open.js';
import { addClient } from '../../catalog/client-store.js';
import { createKey } from '../../catalog/key-store.js';
import type { KeyScopes } from '../../drizzle/schema.js';
import { TEST_KEY_SIGNING_SECRET } from './key-signing.js';
import type { Bundle } from '../../bench/workerd.js';
import { startWorkerServer, type WorkerServer } from './worker-server.js';

type Urls = { databaseUrl: string; tenantDatabaseUrl: string; wsProxy: string };

/**
 * Registers `clientName` (tenant = `tenantDatabaseUrl`, or the worker's TENANT_DATABASE_URL when
 * omitted) and returns a new key's plaintext.
 */
export async function clientWithKey(databaseUrl: string, clientName: string, scopes: KeyScopes, tenantDatabaseUrl: string | null = null): Promise<string> {
  const catalog = await openCatalog(databaseUrl);
  try {
    await addClient(catalog.db, { name: clientName, databaseUrl: tenantDatabaseUrl, enforcement: null, active: true, frozen: false });
    const created = await createKey(catalog.db, { client: clientName, name: 'sdk', scopes, expiresAt: null, signingSecrets: [TEST_KEY_SIGNING_SECRET] });
    return created.key;
  } finally {
    await catalog.close();
  }
}

/**
 * The worker on the test catalog and tenant databases, keys required. test/setup/global.ts starts
 * one for the whole run (`inject('gatewayUrl')`); a test that needs other vars starts its own.
 */
export function startTestGateway(urls: Urls, bundle: Bundle): Promise<WorkerServer> {
  return startWorkerServer(
    {
      DATABASE_URL: urls.databaseUrl,
      TENANT_DATABASE_URL: urls.tenantDatabaseUrl,
      NEON_LOCAL_WS_PROXY: urls.wsProxy,
      STATS_SINK: 'direct',
      FLUSHER_URL: '',
      API_KEY_ENFORCEMENT_DEFAULT: 'required',
      KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
      // Shared by files running at once on a loaded machine: a request waits for a permit or a
      // connection rather than answering 503 (admission under pressure: test/e2e/admission-served.test.ts).
      DB_ACQUIRE_TIMEOUT_MS: '15000',
      DB_CONNECT_TIMEOUT_MS: '15000',
      // Files create clients and use them at once while other files keep the directory fresh: an
      // unknown name re-reads it instead of waiting out the 1 s recheck (a 403 in between).
      AUTH_DIRECTORY_RECHECK_MS: '0',
      // Likewise for tables: a miss re-reads the tenant's catalog however young the cached copy.
      CATALOG_RECHECK_MS: '0',
    },
    bundle,
  );
}
