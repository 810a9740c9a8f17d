/** Registers a client and creates one key for it exactly as the CLI does (Node-side tests). */
import { openCatalog } from '../../cli/catalog.js';
import { addClient } from '../../cli/client-store.js';
import { createKey } from '../../cli/key-store.js';
import type { KeyScopes } from '../../drizzle/schema.js';

/** The new key's plaintext (shown once). The client uses TENANT_DATABASE_URL and the default enforcement. */
export async function seedClientWithKey(databaseUrl: string, client: string, keyName: string, scopes: KeyScopes): Promise<string> {
  const catalog = await openCatalog(databaseUrl);
  try {
    await addClient(catalog.db, { name: client, databaseUrl: null, enforcement: null, active: true, frozen: false });
    return (await createKey(catalog.db, { client, name: keyName, scopes, expiresAt: null })).key;
  } finally {
    await catalog.close();
  }
}
