/**
 * A cached key is decided from memory (no promise, no lookup): the same answers, counters and
 * auth-attempt rows as the path that waits. Expiry is judged at use time from the cached record and
 * the header's client must match the cached key's. Lookups are counted from Postgres
 * (pg_stat_statements, the sandbox's role).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, authCacheStats } from './harness.js';
import { createAuthSandbox, sql, type AuthSandbox } from './seed.js';
import { isolateFor } from '../../worker/isolate.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const KEY_LOOKUPS = '%from api_keys where key_hash%';

describe('cache hits decided from memory', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('a cached key expires on time, is refused for another client, and its refusals are logged like any other', async () => {
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_CACHE_TTL_MS: '60000' };
    const client = await box.createClient();
    const other = await box.createClient();
    const expiresAt = new Date(Date.now() + 1500);
    const { key, prefix } = await box.createKey(client, undefined, { expiresAt });
    const verify = (headers: Record<string, string>, requestId?: string) =>
      fetchWith(vars, verifyUrl, { headers: { ...headers, 'x-athena-key': key, ...(requestId ? { 'x-request-id': requestId } : {}) } });

    expect((await verify({ 'x-athena-client': client })).status).toBe(200); // the lookup that caches the key
    const lookups = await box.statementCalls(KEY_LOOKUPS);
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const hitsBefore = authCacheStats(iso.isolate).keys.hits;

    for (let i = 0; i < 5; i++) {
      const res = await verify({ 'x-athena-client': client });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { client: string; key: { prefix: string; expires_at: string } } }).data).toMatchObject({
        client,
        key: { prefix, expires_at: expiresAt.toISOString() },
      });
    }
    expect((await verify({})).status).toBe(200); // no client header: the key names its client
    const mismatch = await verify({ 'x-athena-client': other });
    expect(mismatch.status).toBe(403);
    expect(((await mismatch.json()) as { error: { code: string } }).error.code).toBe('key_client_mismatch');
    expect(authCacheStats(iso.isolate).keys.hits).toBe(hitsBefore + 7);

    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 50));
    const withHeader = `memory-expired-${crypto.randomUUID()}`;
    const withoutHeader = `memory-expired-${crypto.randomUUID()}`;
    expect((await verify({ 'x-athena-client': client }, withHeader)).status).toBe(401);
    expect((await verify({}, withoutHeader)).status).toBe(401);
    // Every answer came from the cached record: no further lookup.
    expect(await box.statementCalls(KEY_LOOKUPS)).toBe(lookups);
    const rows = await sql<{ request_id: string; client_name: string; key_prefix: string; reason: string }>(
      'SELECT request_id, client_name, key_prefix, reason FROM auth_attempt_log WHERE request_id = ANY($1::text[]) ORDER BY request_id = $2 DESC',
      [[withHeader, withoutHeader], withHeader],
    );
    expect(rows).toEqual([
      { request_id: withHeader, client_name: client, key_prefix: prefix, reason: 'expired_key' },
      // Without a client header, an unusable key names no client (as on the path that waits).
      { request_id: withoutHeader, client_name: null, key_prefix: prefix, reason: 'expired_key' },
    ]);
  });

  it("a cached legacy key is admitted like a tagged one; a string of a key's length that is no key costs no lookup", async () => {
    const vars = { AUTH_DATABASE_URL: box.url, AUTH_CACHE_TTL_MS: '60000' };
    const client = await box.createClient();
    const { key, prefix } = await box.createKey(client, undefined, { legacy: true });
    const verify = (presented: string) => fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': presented } });
    expect((await verify(key)).status).toBe(200); // the lookup that caches the key
    const lookups = await box.statementCalls(KEY_LOOKUPS);
    for (let i = 0; i < 3; i++) {
      const res = await verify(key);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { key: { prefix: string } } }).data.key.prefix).toBe(prefix);
    }
    // As long as a key but outside its alphabet: not cached, so parsed, and refused as malformed.
    const notAKey = `${key.slice(0, 30)}!${key.slice(31)}`;
    expect(notAKey).toHaveLength(key.length);
    const refused = await verify(notAKey);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect(await box.statementCalls(KEY_LOOKUPS)).toBe(lookups);
  });
});
