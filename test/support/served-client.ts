/**
 * For Node-side tests of the served worker: a client with one key in the catalog (created exactly
 * as the CLI does, signed with the test key-signing secret) and the worker started on the test
 * databases with the direct stats sink.
 */
import { openCatalog } from '../../cli/catalog.js';
import { addClient } from '../../cli/client-store.js';
import { createKey } from '../../cli/key-store.js';
import type { KeyScopes } from '../../drizzle/schema.js';
import { TEST_KEY_SIGNING_SECRET } from './key-signing.js';
import { startWorkerServer, type WorkerServer } from './worker-server.js';

export type ServedClient = { server: WorkerServer; apiKey: string };
type Urls = { databaseUrl: string; tenantDatabaseUrl: string; wsProxy: string };

/** Registers `clientName` (tenant = the worker's TENANT_DATABASE_URL) and returns a new key's plaintext. */
export async function clientWithKey(databaseUrl: string, clientName: string, scopes: KeyScopes): Promise<string> {
  const catalog = await openCatalog(databaseUrl);
  try {
    await addClient(catalog.db, { name: clientName, databaseUrl: null, enforcement: null, active: true, frozen: false });
    const created = await createKey(catalog.db, { client: clientName, name: 'sdk', scopes, expiresAt: null, signingSecrets: [TEST_KEY_SIGNING_SECRET] });
    return created.key;
  } finally {
    await catalog.close();
  }
}

/** The worker on the test catalog and tenant databases, keys required. */
export function startTestGateway(urls: Urls): Promise<WorkerServer> {
  return startWorkerServer({
    DATABASE_URL: urls.databaseUrl,
    TENANT_DATABASE_URL: urls.tenantDatabaseUrl,
    NEON_LOCAL_WS_PROXY: urls.wsProxy,
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    API_KEY_ENFORCEMENT_DEFAULT: 'required',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
  });
}

/** Both at once: a served worker and a client with read/insert/update/delete over `tables`. */
export async function serveWithClient(opts: Urls & { clientName: string; tables: string[] }): Promise<ServedClient> {
  const apiKey = await clientWithKey(opts.databaseUrl, opts.clientName, { operations: ['read', 'insert', 'update', 'delete'], tables: opts.tables });
  return { server: await startTestGateway(opts), apiKey };
}
