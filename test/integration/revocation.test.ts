/**
 * The revocation bound end to end, as an operator meets it: a key created and revoked with the real
 * CLI (`npm run gateway -- keys …`) against the worker served over HTTP. A revoked key may keep
 * working while its cache entry lives — at most AUTH_CACHE_TTL_MS after the lookup that loaded
 * it — and is refused (401 invalid_api_key) after that.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runEntry } from './run-entry.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';

const databaseUrl = inject('databaseUrl');
const TTL_MS = 6_000;
const client = `revoke-${process.pid}-${Date.now().toString(36)}`;
const env = { ...process.env, DATABASE_URL: databaseUrl, KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET };
const gateway = (...args: string[]) => runEntry('cli/index.ts', args, { env });

let server: WorkerServer;
let key = '';
let prefix = '';

beforeAll(async () => {
  expect((await gateway('clients', 'add', client)).code).toBe(0);
  const created = await gateway('keys', 'create', '--client', client, '--name', 'revocable', '--json');
  expect(created.code).toBe(0);
  ({ key, prefix } = JSON.parse(created.stdout) as { key: string; prefix: string });
  server = await startWorkerServer({
    DATABASE_URL: databaseUrl,
    NEON_LOCAL_WS_PROXY: inject('wsProxy'),
    STATS_SINK: 'direct',
    FLUSHER_URL: '',
    AUTH_CACHE_TTL_MS: String(TTL_MS),
    AUTH_STALE_IF_UNAVAILABLE_MS: '0',
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
  });
});

afterAll(async () => {
  await server?.close();
});

const verify = async () => {
  const res = await fetch(`${server.url}/v1/auth/verify`, { headers: { 'x-athena-client': client, apikey: key } });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};

describe('revocation through the CLI', () => {
  it('a revoked key works at most AUTH_CACHE_TTL_MS after it was cached, then gets 401', async () => {
    const loadStarted = Date.now();
    expect((await verify()).status).toBe(200); // first use: the lookup that fills the cache
    const loadEnded = Date.now();

    const revoked = await gateway('keys', 'revoke', prefix);
    expect(revoked.code).toBe(0);
    const revokedAt = Date.now();

    // Still inside the TTL of the cached entry (the CLI usually takes a second or two): served.
    if (revokedAt < loadStarted + TTL_MS - 1_000) expect((await verify()).status).toBe(200);

    // Past the bound every answer is the collapsed 401; poll until then and a little after.
    let first401: number | undefined;
    while (Date.now() < loadEnded + TTL_MS + 3_000) {
      const { status, body } = await verify();
      if (status === 401) {
        expect(body.error?.code).toBe('invalid_api_key');
        first401 ??= Date.now();
      } else {
        expect(first401).toBeUndefined(); // once refused, never served again
        expect(status).toBe(200);
        expect(Date.now()).toBeLessThanOrEqual(loadEnded + TTL_MS + 1_000);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(first401).toBeDefined();
    expect(first401).toBeLessThanOrEqual(loadEnded + TTL_MS + 1_500);
  });
});
