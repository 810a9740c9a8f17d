/**
 * `GET /__gateway/status`: guarded by ADMIN_TOKEN, reports the isolate's budgets, caches, batcher,
 * limiter and effective settings — and never a secret value.
 */
import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';
import { databaseUrl, fetchWith, tenantDatabaseUrl } from './harness.js';

const TOKEN = TEST_ADMIN_TOKEN;
const auth = { authorization: `Bearer ${TOKEN}` };

describe('GET /__gateway/status', () => {
  it('answers 401 with the error envelope without a token, with a wrong one, and when none is configured', async () => {
    const cases: [Record<string, string>, HeadersInit][] = [
      [{}, {}],
      [{}, { authorization: 'Bearer wrong-token' }],
      [{}, { authorization: TOKEN }], // not a Bearer credential
      [{ ADMIN_TOKEN: '' }, auth],
    ];
    for (const [vars, headers] of cases) {
      const res = await fetchWith(vars, 'http://gateway/__gateway/status', { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('unauthorized');
    }
  });

  it('refuses an ADMIN_TOKEN shorter than 32 characters as a misconfiguration naming the var, not its value', async () => {
    const short = 'short-admin-token-31-characters';
    expect(short).toHaveLength(31);
    for (const value of [short, `${TOKEN},${short}`]) {
      const res = await fetchWith({ ADMIN_TOKEN: value }, 'http://gateway/__gateway/status', { headers: { authorization: `Bearer ${short}` } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain(short);
      const body = JSON.parse(text) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('gateway_misconfigured');
      expect(body.error.message).toContain('ADMIN_TOKEN must be at least 32 characters');
    }
  });

  it('accepts either token of a comma-separated ADMIN_TOKEN during a rotation, and nothing else', async () => {
    const next = 'next-admin-token-7d6c5b4a39281706f5e4d3c2';
    const vars = { ADMIN_TOKEN: `${next}, ${TOKEN}` };
    for (const [token, status] of [
      [next, 200],
      [TOKEN, 200],
      [`${next},${TOKEN}`, 401],
      ['', 401],
    ] as const) {
      const res = await fetchWith(vars, 'http://gateway/__gateway/status', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, token).toBe(status);
    }
  });

  it('reports budgets per target, key cache, batcher, limiter and redacted settings', async () => {
    const vars = { REQUEST_LOG: 'all', LOG_TASK_LIMIT: '3', TEST_ISOLATE: 'status-shape' };
    // Touch the catalog target so its budget exists, and log one request through the limiter.
    expect((await fetchWith(vars, 'http://gateway/__gateway/ready', { headers: auth })).status).toBe(200);
    const res = await fetchWith(vars, 'http://gateway/__gateway/status', { headers: { ...auth, 'x-request-id': 'status-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    const catalog = new URL(databaseUrl);
    expect(body).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      requestId: 'status-1',
      isolate: { id: expect.stringMatching(/^[0-9a-f]{12}$/), startedAt: expect.any(String), uptimeMs: expect.any(Number) },
      budgets: expect.arrayContaining([
        expect.objectContaining({
          target: `127.0.0.1:${catalog.port}${catalog.pathname}`,
          size: 8,
          inUse: 0,
          waiting: 0,
          acquired: expect.any(Number),
          timeouts: expect.any(Number),
        }),
      ]),
      keyCache: { size: expect.any(Number), hits: expect.any(Number), misses: expect.any(Number), staleServed: expect.any(Number) },
      batcher: { pendingKeys: expect.any(Number), lastFlushAt: null, failures: expect.any(Number), dropped: expect.any(Number) },
      telemetry: {
        limit: 3,
        inFlight: 0,
        // The /ready request's log task ran before this status request.
        accepted: 1,
        written: { request: 1, auth_attempt: 0, admission: 0 },
        dropped: { request: 0, auth_attempt: 0, admission: 0 },
        droppedByReason: { saturated: 0, unavailable: 0, failed: 0 },
      },
      settings: { DB_POOL_MAX: 8, REQUEST_LOG: 'all', LOG_TASK_LIMIT: 3, logTaskLimit: 3, DATABASE_URL: '[redacted]', ADMIN_TOKEN: '[redacted]' },
    });
  });

  it('contains no secret value anywhere: URLs, passwords, signing secret, admin token', async () => {
    const withPassword = (url: string, password: string) => {
      const u = new URL(url);
      u.username = 'logger';
      u.password = password;
      return u.toString();
    };
    const secrets = {
      ADMIN_TOKEN: 'adm-0f8b7c6d5e4f3a2b1c0d-9e8f7a6b5c4d3e2f1a0b',
      FLUSH_SIGNING_SECRET: 'sig-9a8b7c6d5e4f3a2b1c0d',
      LOGGING_DATABASE_URL: withPassword(databaseUrl, 'pw-logging-4c3b2a'),
      AUTH_DATABASE_URL: withPassword(databaseUrl, 'pw-auth-7e6d5c'),
      FLUSHER_URL: 'https://flush-user:pw-flusher-1a2b@flusher.example.com/ingest?token=tok-5e6f7a8b#frag',
    };
    const res = await fetchWith(secrets, 'http://gateway/__gateway/status', { headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const value of [...Object.values(secrets), databaseUrl, tenantDatabaseUrl, 'pw-logging-4c3b2a', 'pw-auth-7e6d5c', 'pw-flusher-1a2b', 'tok-5e6f7a8b']) {
      expect(text).not.toContain(value);
    }
    expect(text).not.toMatch(/postgres(ql)?:\/\//);
    const settings = (JSON.parse(text) as { settings: Record<string, unknown> }).settings;
    for (const name of ['DATABASE_URL', 'AUTH_DATABASE_URL', 'LOGGING_DATABASE_URL', 'TENANT_DATABASE_URL', 'FLUSH_SIGNING_SECRET', 'ADMIN_TOKEN']) {
      expect(settings[name]).toBe('[redacted]');
    }
    expect(settings.authDatabaseUrl).toBe('[redacted]');
    expect(settings.loggingDatabaseUrl).toBe('[redacted]');
    expect(settings.FLUSHER_URL).toEqual(['https://flusher.example.com/ingest']);
  });
});
