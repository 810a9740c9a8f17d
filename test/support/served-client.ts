/**
 * A served worker (worker-server.ts) plus a client registered in the catalog with one key over
 * `tables` — what the SDK-over-HTTP tests start with. Keys are created exactly as the CLI does.
 */
import { openCatalog } from '../../cli/catalog.js';
import { addClient } from '../../cli/client-store.js';
import { createKey } from '../../cli/key-store.js';
import { startWorkerServer, type WorkerServer } from './worker-server.js';

export type ServedClient = { server: WorkerServer; apiKey: string };

export async function serveWithClient(opts: { databaseUrl: string; tenantDatabaseUrl: string; wsProxy: string; clientName: string; tables: string[] }): Promise<ServedClient> {
  const catalog = await openCatalog(opts.databaseUrl);
  let apiKey: string;
  try {
    await addClient(catalog.db, { name: opts.clientName, databaseUrl: null, enforcement: null, active: true, frozen: false });
    const scopes = { operations: ['read' as const, 'insert' as const, 'update' as const, 'delete' as const], tables: opts.tables };
    apiKey = (await createKey(catalog.db, { client: opts.clientName, name: 'sdk', scopes, expiresAt: null })).key;
  } finally {
    await catalog.close();
  }
  const server = await startWorkerServer({
    DATABASE_URL: opts.databaseUrl,
    TENANT_DATABASE_URL: opts.tenantDatabaseUrl,
    NEON_LOCAL_WS_PROXY: opts.wsProxy,
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    API_KEY_ENFORCEMENT_DEFAULT: 'required',
  });
  return { server, apiKey };
}
