/**
 * Bench fixtures in the catalog: one hot client with one hot key (scenarios 2–5) and a pool of
 * other keys of that same client, which scenario 5 injects at a steady rate to force key-cache
 * misses — signed with the worker's key-signing secret, as the CLI mints them; and the same for
 * scenario 7's client with legacy (untagged) keys, which the code before tagged keys accepts too.
 */
import pg from 'pg';
import { generateApiKey, hashApiKey, mintApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';

export const HOT_CLIENT = 'bench-hot';
export const FLOOD_CLIENT = 'bench-flood';

export type Seeded = { hotKey: string; missKeys: string[]; floodHotKey: string; floodMissKeys: string[] };

/** Seeds both clients; the hot client's keys are signed with `keySigningSecret`. */
export async function seedBench(catalogUrl: string, missKeyCount: number, keySigningSecret: string): Promise<Seeded> {
  const sign = await signerFor([keySigningSecret]);
  const hot = await seedClient(catalogUrl, HOT_CLIENT, missKeyCount, () => mintApiKey(sign));
  const flood = await seedClient(catalogUrl, FLOOD_CLIENT, missKeyCount, async () => generateApiKey());
  return { ...hot, floodHotKey: flood.hotKey, floodMissKeys: flood.missKeys };
}

/** Inserts one client and its keys (replacing earlier bench fixtures) and returns the plaintext keys. */
async function seedClient(
  catalogUrl: string,
  clientName: string,
  missKeyCount: number,
  newKey: () => Promise<{ key: string; prefix: string }>,
): Promise<{ hotKey: string; missKeys: string[] }> {
  const client = new pg.Client({ connectionString: catalogUrl });
  await client.connect();
  try {
    await client.query('DELETE FROM clients WHERE client_name = $1', [clientName]);
    await client.query(`INSERT INTO clients (client_name, api_key_enforcement) VALUES ($1, 'required')`, [clientName]);
    const scopes = JSON.stringify({ operations: ['read'], tables: ['*'] });
    const make = async (name: string) => {
      const { key, prefix } = await newKey();
      return { key, name, prefix, hash: await hashApiKey(key) };
    };
    const hot = await make('hot');
    const misses = await Promise.all(Array.from({ length: missKeyCount }, (_, i) => make(`miss-${i}`)));
    const all = [hot, ...misses];
    await client.query(
      `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes)
       SELECT $1, n, p, h, $5::jsonb FROM unnest($2::text[], $3::text[], $4::text[]) AS u(n, p, h)`,
      [clientName, all.map((k) => k.name), all.map((k) => k.prefix), all.map((k) => k.hash), scopes],
    );
    return { hotKey: hot.key, missKeys: misses.map((k) => k.key) };
  } finally {
    await client.end();
  }
}
