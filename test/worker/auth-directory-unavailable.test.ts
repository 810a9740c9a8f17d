/**
 * A definitive refusal only on knowledge the gateway could refresh, inside workerd against real
 * Postgres: a client created after the directory was loaded, its `clients` table then locked, gets
 * the retryable 503 (with Retry-After), never 403 unknown_client; the failed reload is one query,
 * not one per request, and is not retried within AUTH_DIRECTORY_RECHECK_MS. A name absent from a
 * copy loaded within that interval is still refused (403) from memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, fetchWith } from './harness.js';
import { createAuthSandbox, type AuthSandbox, type SeededKey } from './seed.js';
import { directoryStats } from '../../worker/auth/client-directory.js';
import { isolateFor } from '../../worker/isolate.js';

const RECHECK_MS = 3000;
const verifyUrl = 'http://gateway/v1/auth/verify';

type Answer = { status: number; code: string | null; retryAfter: string | null };

describe('client directory whose reload cannot run', () => {
  let box: AuthSandbox;
  beforeAll(async () => {
    box = await createAuthSandbox();
  });
  afterAll(async () => {
    await box.drop();
  });

  it('a client unknown to the old copy gets 503 policy unavailable while `clients` is locked, 403 only on a fresh copy', async () => {
    const vars = {
      AUTH_DATABASE_URL: box.url,
      AUTH_LOOKUP_TIMEOUT_MS: '800',
      AUTH_DIRECTORY_RECHECK_MS: String(RECHECK_MS),
      TEST_CASE: 'directory-unavailable',
    };
    const isolate = (() => {
      const iso = isolateFor({ ...baseEnv, ...vars });
      if (!iso.ok) throw new Error(iso.problem);
      return iso.isolate;
    })();
    const verify = async (client: string, key: SeededKey): Promise<Answer> => {
      const res = await fetchWith(vars, verifyUrl, { headers: { 'x-athena-client': client, 'x-athena-key': key.key } });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code ?? null, retryAfter: res.headers.get('retry-after') };
    };

    // The directory is loaded (by a request of another client) before the new client exists.
    const warm = await box.createClient();
    const warmKey = await box.createKey(warm);
    expect((await verify(warm, warmKey)).status).toBe(200);
    const client = await box.createClient();
    const key = await box.createKey(client);
    await new Promise((r) => setTimeout(r, RECHECK_MS + 100)); // the copy may no longer say "not listed"

    const loadsBefore = directoryStats(isolate.services.directory).loads;
    const lock = await box.lockTable('clients');
    let answers: Answer[];
    let again: Answer;
    let listed: Answer;
    try {
      answers = await Promise.all(Array.from({ length: 16 }, () => verify(client, key)));
      again = await verify(client, key); // right after the failure: answered from memory, no reload
      listed = await verify(warm, warmKey); // the copy still lists this one, within its TTL
    } finally {
      await lock.release();
    }
    const unavailable = { status: 503, code: 'api_key_policy_unavailable', retryAfter: expect.stringMatching(/^[1-9]\d*$/) };
    expect(answers).toEqual(Array.from({ length: 16 }, () => unavailable));
    expect(again).toEqual(unavailable);
    expect(listed.status).toBe(200);
    expect(directoryStats(isolate.services.directory).loads).toBe(loadsBefore + 1); // one reload for 17 requests

    // Once the failure is older than the recheck interval, one reload finds the client.
    await new Promise((r) => setTimeout(r, RECHECK_MS + 100));
    expect(await verify(client, key)).toEqual({ status: 200, code: null, retryAfter: null });
    // A name the fresh copy does not list: refused definitively, from memory.
    expect(await verify(`ghost-${crypto.randomUUID().slice(0, 8)}`, key)).toMatchObject({ status: 403, code: 'unknown_client' });
  });
});
