/**
 * Forged keys and unknown clients cost no database work: every malformed, forged, truncated,
 * over-long, wrong-alphabet or unlisted legacy key, every conflicting header set, and every client
 * name that is not in the directory gets its documented 4xx from memory — counted from Postgres
 * itself (pg_stat_statements by the sandbox role: zero statements) and in the status counters.
 * Legacy keys of live prefixes keep working; AUTH_ACCEPT_LEGACY_KEYS=false refuses them; a second
 * signing secret verifies during a rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith } from './harness.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { isolateFor } from '../../worker/isolate.js';
import { authStatus } from '../../worker/auth/auth-metrics.js';
import { generateApiKey, mintApiKey } from '../../crypto/key-format.js';
import { signerFor } from '../../crypto/key-signing.js';

const verifyUrl = 'http://gateway/v1/auth/verify';
const OTHER_SECRET = 'another-signing-secret-not-the-workers-0001';

type Case = [label: string, headers: Record<string, string>, status: number, code: string];

describe('forged keys and unknown clients, refused from memory', () => {
  let box: AuthSandbox;
  let client: string;
  let signed: SeededKey;
  let legacy: SeededKey;
  // The directory answers "unknown" from memory for 10 minutes: nothing may reload it here.
  let vars: Record<string, string>;

  beforeAll(async () => {
    box = await createAuthSandbox();
    vars = { AUTH_DATABASE_URL: box.url, AUTH_DIRECTORY_RECHECK_MS: '600000', AUTH_POLICY_CACHE_TTL_MS: '600000', AUTH_NEGATIVE_CACHE_TTL_MS: '600000' };
    client = await box.createClient();
    signed = await box.createKey(client);
    legacy = await box.createKey(client, undefined, { name: 'legacy', legacy: true });
  });
  afterAll(async () => {
    await box.drop();
  });

  const call = (headers: Record<string, string>, v = vars) => fetchWith(v, verifyUrl, { headers });

  it('each bad input gets its 4xx with zero statements against the catalog', async () => {
    expect((await call({ 'x-athena-client': client, 'x-athena-key': signed.key })).status).toBe(200); // directory + key loaded
    expect((await call({ 'x-athena-client': client, 'x-athena-key': legacy.key })).status).toBe(200); // a listed legacy prefix
    const flipped = signed.key.slice(0, -1) + (signed.key.endsWith('0') ? '1' : '0');
    const otherSigned = (await mintApiKey(await signerFor([OTHER_SECRET]))).key;
    const cases: Case[] = [
      ['forged tag', { 'x-athena-client': client, 'x-athena-key': flipped }, 401, 'invalid_api_key'],
      ['signed by another secret', { 'x-athena-client': client, 'x-athena-key': otherSigned }, 401, 'invalid_api_key'],
      ['truncated', { 'x-athena-client': client, 'x-athena-key': signed.key.slice(0, -1) }, 401, 'invalid_api_key'],
      ['over-long', { 'x-athena-client': client, 'x-athena-key': `${signed.key}0` }, 401, 'invalid_api_key'],
      ['huge', { 'x-athena-client': client, 'x-athena-key': `ath_${'a'.repeat(8000)}` }, 401, 'invalid_api_key'],
      ['wrong alphabet', { 'x-athena-client': client, 'x-athena-key': signed.key.replace(/_([A-Za-z0-9])/, '_-') }, 401, 'invalid_api_key'],
      ['latin-1 in key', { 'x-athena-client': client, 'x-athena-key': `${signed.key.slice(0, -1)}é` }, 401, 'invalid_api_key'],
      ['unlisted legacy prefix', { 'x-athena-client': client, 'x-athena-key': generateApiKey().key }, 401, 'invalid_api_key'],
      ['legacy secret guessed for a live prefix', { 'x-athena-client': client, 'x-athena-key': `${legacy.prefix}_${'Q'.repeat(40)}` }, 401, 'invalid_api_key'],
      ['unlisted legacy prefix, no client header', { 'x-athena-key': generateApiKey().key }, 401, 'invalid_api_key'],
      ['keys in several headers', { 'x-athena-client': client, 'x-athena-key': signed.key, apikey: flipped }, 400, 'conflicting_credentials'],
      ['unknown name', { 'x-athena-client': `nobody_${crypto.randomUUID()}`, 'x-athena-key': signed.key }, 403, 'unknown_client'],
      ['name at the length limit', { 'x-athena-client': `n${'x'.repeat(62)}`, 'x-athena-key': signed.key }, 403, 'unknown_client'],
      ['name beyond the limit', { 'x-athena-client': `n${'x'.repeat(63)}`, 'x-athena-key': signed.key }, 403, 'unknown_client'],
      ['latin-1 name', { 'x-athena-client': 'clïent', 'x-athena-key': signed.key }, 403, 'unknown_client'],
      ['raw UTF-8 bytes in the name', { 'x-athena-client': 'ðŸ˜€', 'x-athena-key': signed.key }, 403, 'unknown_client'],
      ['unknown name, no key', { 'x-athena-client': 'no-such-client-either' }, 403, 'unknown_client'],
    ];
    // "legacy secret guessed" is the one case that may cost a lookup: its prefix is live. Run it first and count from after it.
    const guessed = cases.find(([label]) => label.startsWith('legacy secret guessed'));
    if (!guessed) throw new Error('case missing');
    expect((await call(guessed[1])).status).toBe(401);
    const before = await box.statementCalls('%');
    for (const [label, headers, status, code] of cases.filter((c) => c !== guessed)) {
      const res = await call(headers);
      const body = (await res.json()) as { error?: { code: string } };
      expect({ label, status: res.status, code: body.error?.code }).toEqual({ label, status, code });
    }
    expect(await box.statementCalls('%')).toBe(before);
    // The guessed legacy key was looked up once and is now negatively cached: again, no statement.
    expect((await call(guessed[1])).status).toBe(401);
    expect(await box.statementCalls('%')).toBe(before);
  });

  it('a flood of forged keys and random names costs 0 lookups; the status counts them per client, never the keys', async () => {
    const before = await box.statementCalls('%');
    const forged = await Promise.all(Array.from({ length: 100 }, async () => (await mintApiKey(await signerFor([OTHER_SECRET]))).key));
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 25) {
      const batch = forged
        .slice(i, i + 25)
        .flatMap((k) => [call({ 'x-athena-client': client, 'x-athena-key': k }), call({ 'x-athena-client': `rnd-${crypto.randomUUID()}`, 'x-athena-key': k })]);
      statuses.push(...(await Promise.all(batch)).map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(200); // the tag is checked before the name
    expect(await box.statementCalls('%')).toBe(before);
    const iso = isolateFor({ ...baseEnv, ...vars });
    if (!iso.ok) throw new Error(iso.problem);
    const status = authStatus(iso.isolate.settings, iso.isolate.services);
    expect(status.clients[client]?.forgedKeys).toBeGreaterThanOrEqual(100);
    expect(status.forgedKeys).toBeGreaterThanOrEqual(200);
    expect(JSON.stringify(status)).not.toContain(forged[0]?.slice(15, 40));
    expect(status.directory).toMatchObject({ loaded: true, complete: true });
  });

  it('unknown names are counted; a client added later is known after one reload once AUTH_DIRECTORY_RECHECK_MS has passed', async () => {
    const recheckMs = 3000;
    const quick = { ...vars, AUTH_DIRECTORY_RECHECK_MS: String(recheckMs) };
    const loadStarted = Date.now();
    expect((await call({ 'x-athena-client': client, 'x-athena-key': signed.key }, quick)).status).toBe(200);
    const loadEnded = Date.now(); // the directory was loaded between these two instants
    const late = await box.createClient();
    const lateKey = await box.createKey(late);
    const lateCall = () => call({ 'x-athena-client': late, 'x-athena-key': lateKey.key }, quick);
    const early = await lateCall(); // within the recheck interval of the load above: refused from memory…
    expect(Date.now() - loadStarted).toBeLessThan(recheckMs); // (the test's own premise)
    await new Promise((r) => setTimeout(r, recheckMs + 200 - (Date.now() - loadEnded)));
    const after = await lateCall(); // …after it, the name triggers one reload and is known
    expect([early.status, after.status]).toEqual([403, 200]);
    const iso = isolateFor({ ...baseEnv, ...quick });
    if (!iso.ok) throw new Error(iso.problem);
    expect(authStatus(iso.isolate.settings, iso.isolate.services).unknownClients).toBe(1);
  });

  it('legacy keys: refused with AUTH_ACCEPT_LEGACY_KEYS=false; a rotation list verifies keys signed by any of its secrets', async () => {
    await expectStatus(call({ 'x-athena-client': client, 'x-athena-key': legacy.key }, { ...vars, AUTH_ACCEPT_LEGACY_KEYS: 'false' }), 401);
    const rotating = { ...vars, KEY_SIGNING_SECRETS: `${OTHER_SECRET},${baseEnv.KEY_SIGNING_SECRETS ?? ''}` };
    await expectStatus(call({ 'x-athena-client': client, 'x-athena-key': signed.key }, rotating), 200);
    await expectStatus(call({ 'x-athena-client': client, 'x-athena-key': signed.key }, { ...vars, KEY_SIGNING_SECRETS: OTHER_SECRET }), 401);
  });
});

async function expectStatus(p: Promise<Response>, status: number): Promise<void> {
  const res = await p;
  await res.body?.cancel();
  expect(res.status).toBe(status);
}
