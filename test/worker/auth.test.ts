/**
 * The auth path inside workerd against real Postgres: every refusal with its exact status, code and
 * message, anonymous access under optional enforcement, `GET /v1/auth/verify`, and both 503s with
 * Retry-After (a lookup that cannot run), fail-static and fail-open. Data routes are probed only up
 * to the auth decision: an admitted `POST /gateway/fetch` with an empty body reaches the handler,
 * which answers 400 `invalid_request` — where a refused one answers 401/403/503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith, authCacheStats } from './harness.js';
import { createAuthSandbox, createClient, createKey, revokeKey, sql, type AuthSandbox } from './seed.js';
import { isolateFor } from '../../worker/isolate.js';

type ErrorBody = { error: { code: string; message: string; hint: string | null } };
type VerifyBody = { data: { client: string; authenticated: boolean; key: { id: string; prefix: string; scopes: unknown; expires_at: string | null } } };

const verifyUrl = 'http://gateway/v1/auth/verify';
/** Past auth, the handler refuses this body with 400 invalid_request. */
const PROBE = 'http://gateway/gateway/fetch';

async function expectError(res: Response, status: number, code: string, message?: string): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  if (message) expect(body.error.message).toBe(message);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  if (status === 503) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  return body;
}

const get = (url: string, headers: Record<string, string>, vars: Record<string, string> = {}) => fetchWith(vars, url, { headers });
const post = (url: string, headers: Record<string, string>, vars: Record<string, string> = {}) =>
  fetchWith(vars, url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

describe('auth path', () => {
  let client: string;
  let other: string;
  let key: { key: string; prefix: string; id: string };

  beforeAll(async () => {
    client = await createClient();
    other = await createClient();
    key = await createKey(client, { operations: ['read'], tables: ['users'] });
  });

  it('verify answers who the key is for every accepted header, never the hash', async () => {
    const variants: Record<string, string>[] = [
      { 'x-athena-key': key.key },
      { apikey: key.key },
      { 'x-api-key': key.key },
      { 'X-API-Key': key.key },
      { authorization: `Bearer ${key.key}` },
    ];
    for (const headers of variants) {
      const res = await get(verifyUrl, { 'x-athena-client': client, ...headers });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        data: { client, authenticated: true, key: { id: key.id, prefix: key.prefix, scopes: { operations: ['read'], tables: ['users'] }, expires_at: null } },
      } satisfies VerifyBody);
      expect(text).not.toMatch(/[0-9a-f]{64}/);
      expect(text).not.toContain(key.key);
    }
  });

  it("verify without X-Athena-Client answers for the key's own client, with its expiry", async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const k = await createKey(client, { operations: ['read', 'insert'], tables: ['*'] }, { expiresAt });
    const res = await get(verifyUrl, { 'x-athena-key': k.key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as VerifyBody;
    expect(body.data.client).toBe(client);
    expect(body.data.key.prefix).toBe(k.prefix);
    expect(Date.parse(body.data.key.expires_at ?? '')).toBe(expiresAt.getTime());
  });

  it('400 missing_client_header on /gateway/* and /db/gateway/*', async () => {
    for (const url of ['http://gateway/gateway/fetch', 'http://gateway/db/gateway/fetch']) {
      await expectError(await post(url, { 'x-athena-key': key.key }), 400, 'missing_client_header', 'Missing X-Athena-Client header');
      await expectError(await post(url, { 'x-athena-client': '  ', 'x-athena-key': key.key }), 400, 'missing_client_header');
    }
  });

  it('400 conflicting_credentials when key headers disagree', async () => {
    const second = await createKey(client);
    const res = await post('http://gateway/gateway/fetch', { 'x-athena-client': client, 'x-athena-key': key.key, authorization: `Bearer ${second.key}` });
    await expectError(res, 400, 'conflicting_credentials', 'Conflicting API keys in request headers');
  });

  it('401 invalid_api_key, one collapsed answer for malformed, unknown, revoked and expired keys', async () => {
    const revoked = await createKey(client);
    await revokeKey(revoked.id);
    const expired = await createKey(client, undefined, { expiresAt: new Date(Date.now() - 1000) });
    const unknown = `${key.prefix}_${'Z'.repeat(40)}`;
    const bodies: ErrorBody[] = [];
    for (const k of ['not-a-key', `${key.key}x`, unknown, revoked.key, expired.key]) {
      bodies.push(await expectError(await get(verifyUrl, { 'x-athena-client': client, 'x-athena-key': k }), 401, 'invalid_api_key', 'Invalid API key'));
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it('each refusal is logged as an auth attempt with its reason and key prefix, never the key', async () => {
    const unknown = `${key.prefix}_${'W'.repeat(40)}`;
    const requestId = `auth-attempt-${crypto.randomUUID()}`;
    const res = await get(verifyUrl, { 'x-athena-client': client, 'x-athena-key': unknown, 'x-request-id': requestId });
    await expectError(res, 401, 'invalid_api_key');
    const rows = await sql<{ client_name: string; key_prefix: string; reason: string }>(
      'SELECT client_name, key_prefix, reason FROM auth_attempt_log WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([{ client_name: client, key_prefix: key.prefix, reason: 'unknown_key' }]);
  });

  it('403 key_client_mismatch for a key of another client', async () => {
    const res = await post('http://gateway/gateway/fetch', { 'x-athena-client': other, 'x-athena-key': key.key });
    await expectError(res, 403, 'key_client_mismatch', 'API key does not belong to this client');
  });

  it('403 for unknown, inactive and frozen clients', async () => {
    const inactive = await createClient(undefined, { isActive: false });
    const frozen = await createClient(undefined, { isFrozen: true });
    const cases: [string, string, string][] = [
      ['no_such_client_x', 'unknown_client', 'Unknown client'],
      ['bad name!', 'unknown_client', 'Unknown client'],
      [inactive, 'client_inactive', 'Client is inactive'],
      [frozen, 'client_frozen', 'Client is frozen'],
    ];
    for (const [name, code, message] of cases) {
      await expectError(await post(PROBE, { 'x-athena-client': name, 'x-athena-key': key.key }), 403, code, message);
    }
  });

  it('enforcement: required needs a key (401 missing_api_key); optional admits anonymous but still checks a presented key', async () => {
    const optional = await createClient(undefined, { enforcement: 'optional' });
    const required = await createClient(undefined, { enforcement: 'required' });
    const byDefault = await createClient();
    await expectError(await post(PROBE, { 'x-athena-client': required }), 401, 'missing_api_key', 'Missing API key');
    await expectError(await post(PROBE, { 'x-athena-client': byDefault }), 401, 'missing_api_key');
    await expectError(await post(PROBE, { 'x-athena-client': optional }), 400, 'invalid_request'); // admitted
    await expectError(await post(PROBE, { 'x-athena-client': optional, apikey: 'ath_garbage' }), 401, 'invalid_api_key');
    // The gateway default applies where the client has no setting of its own.
    const optionalDefault = { API_KEY_ENFORCEMENT_DEFAULT: 'optional' };
    await expectError(await post(PROBE, { 'x-athena-client': byDefault }, optionalDefault), 400, 'invalid_request');
    await expectError(await post(PROBE, { 'x-athena-client': required }, optionalDefault), 401, 'missing_api_key');
    // verify vouches for keys only.
    await expectError(await get(verifyUrl, { 'x-athena-client': optional }), 401, 'missing_api_key');
  });
});

describe('auth lookups that cannot run', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('503 api_key_policy_unavailable with Retry-After when the auth database cannot be reached', async () => {
    const u = new URL(box.url);
    u.pathname = '/no_such_database_here';
    const vars = { AUTH_DATABASE_URL: u.toString() };
    const client = await createClient();
    const { key } = await createKey(client);
    await expectError(
      await post(PROBE, { 'x-athena-client': client, 'x-athena-key': key }, vars),
      503,
      'api_key_policy_unavailable',
      'API key policy unavailable',
    );
  });

  it('503 api_key_validation_unavailable when the key lookup fails; fail-open admits, fail-static serves a recent entry', async () => {
    const client = await box.createClient();
    const fresh = await box.createKey(client);
    const cached = await box.createKey(client);
    const closed = { AUTH_DATABASE_URL: box.url, AUTH_CACHE_TTL_MS: '1', AUTH_POLICY_CACHE_TTL_MS: '600000' };
    const stale = { ...closed, AUTH_STALE_IF_UNAVAILABLE_MS: '600000' };
    const open = { ...closed, AUTH_FAIL_MODE: 'open' };
    for (const vars of [closed, stale, open]) {
      // Warm the policy (and, for fail-static, the key) while the lookup still works.
      expect((await get(verifyUrl, { 'x-athena-client': client, 'x-athena-key': cached.key }, vars)).status).toBe(200);
    }
    await sql(`REVOKE SELECT ON "${box.schema}".api_keys FROM "${box.role}"`);
    await new Promise((r) => setTimeout(r, 20)); // past the 1 ms positive TTL

    const headers = { 'x-athena-client': client, 'x-athena-key': fresh.key };
    await expectError(await get(verifyUrl, headers, closed), 503, 'api_key_validation_unavailable', 'API key validation unavailable');
    await expectError(await post(PROBE, headers, closed), 503, 'api_key_validation_unavailable');

    // Fail-static: only a found entry that expired recently, only while lookups cannot run.
    expect((await get(verifyUrl, { 'x-athena-client': client, 'x-athena-key': cached.key }, stale)).status).toBe(200);
    await expectError(await get(verifyUrl, headers, stale), 503, 'api_key_validation_unavailable');
    const staleIso = isolateFor({ ...baseEnv, ...stale });
    if (!staleIso.ok) throw new Error(staleIso.problem);
    expect(authCacheStats(staleIso.isolate).keys.staleServed).toBe(1);

    // Fail-open admits data routes anonymously; verify never vouches for an unchecked key.
    await expectError(await post(PROBE, headers, open), 400, 'invalid_request');
    await expectError(await get(verifyUrl, headers, open), 503, 'api_key_validation_unavailable');
  });
});
