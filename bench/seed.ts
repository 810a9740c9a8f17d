/**
 * Bench fixtures in the catalog: one hot client with one hot key (scenarios 2–5) and a pool of
 * other keys of that same client, which scenario 5 injects at a steady rate to force key-cache
 * misses. Keys are generated and hashed exactly as the CLI does (worker/auth/key-format.ts).
 */
import pg from 'pg';
import { generateApiKey, hashApiKey } from '../worker/auth/key-format.js';

export const HOT_CLIENT = 'bench-hot';

export type Seeded = { hotKey: string; missKeys: string[] };

/** Inserts the client and keys (replacing earlier bench fixtures) and returns the plaintext keys. */
export async function seedBench(catalogUrl: string, missKeyCount: number): Promise<Seeded> {
  const client = new pg.Client({ connectionString: catalogUrl });
  await client.connect();
  try {
    await client.query('DELETE FROM clients WHERE client_name = $1', [HOT_CLIENT]);
    await client.query(`INSERT INTO clients (client_name, api_key_enforcement) VALUES ($1, 'required')`, [HOT_CLIENT]);
    const scopes = JSON.stringify({ operations: ['read'], tables: ['*'] });
    const make = async (name: string) => {
      const { key, prefix } = generateApiKey();
      return { key, name, prefix, hash: await hashApiKey(key) };
    };
    const hot = await make('hot');
    const misses = await Promise.all(Array.from({ length: missKeyCount }, (_, i) => make(`miss-${i}`)));
    const all = [hot, ...misses];
    await client.query(
      `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes)
       SELECT $1, n, p, h, $5::jsonb FROM unnest($2::text[], $3::text[], $4::text[]) AS u(n, p, h)`,
      [HOT_CLIENT, all.map((k) => k.name), all.map((k) => k.prefix), all.map((k) => k.hash), scopes],
    );
    return { hotKey: hot.key, missKeys: misses.map((k) => k.key) };
  } finally {
    await client.end();
  }
}
