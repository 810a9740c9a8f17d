/**
 * For Node-side tests of the served worker: a client with one key in the catalog (as the CLI
 * creates them) and the worker started on the test databases with the direct stats sink.
 */
import { openCatalog } from '../../cli/catalog.js';
import { addClient } from '../../cli/client-store.js';
import { createKey } from '../../cli/key-store.js';
import type { KeyScopes } from '../../drizzle/schema.js';
import { startWorkerServer, type WorkerServer } from './worker-server.js';

/** Registers `clientName` (tenant = the worker's TENANT_DATABASE_URL) and returns a new key's plaintext. */
export async function clientWithKey(databaseUrl: string, clientName: string, scopes: KeyScopes): Promise<string> {
  const catalog = await openCatalog(databaseUrl);
  try {
    await addClient(catalog.db, { name: clientName, databaseUrl: null, enforcement: null, active: true, frozen: false });
    return (await createKey(catalog.db, { client: clientName, name: 'sdk', scopes, expiresAt: null })).key;
  } finally {
    await catalog.close();
  }
}

/** The worker on the test catalog and tenant databases, keys required. */
export function startTestGateway(urls: { databaseUrl: string; tenantDatabaseUrl: string; wsProxy: string }): Promise<WorkerServer> {
  return startWorkerServer({
    DATABASE_URL: urls.databaseUrl,
    TENANT_DATABASE_URL: urls.tenantDatabaseUrl,
    NEON_LOCAL_WS_PROXY: urls.wsProxy,
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    API_KEY_ENFORCEMENT_DEFAULT: 'required',
  });
}
