import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';
import { fetchWith, gateway } from './harness.js';
import { describe, expect, it } from 'vitest';

describe('worker inside workerd', () => {
  it('GET /health answers ok with a version and a request id, without auth', async () => {
    const res = await gateway.fetch('http://gateway/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      gateway_version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('every probe of SDK 5 (health(), system.compatibility(), verifyConnection()) finds a supported Athena 5 server, with and without /db', async () => {
    for (const path of ['/health', '/', '/db/health', '/db/', '/db']) {
      // Discovery sends only Accept and X-API-Key: no client header, and the key is not checked.
      const res = await gateway.fetch(`http://gateway${path}`, { headers: { accept: 'application/json', 'x-api-key': 'not-a-key' } });
      expect(res.status, path).toBe(200);
      const body = (await res.json()) as { status: string; version: string; release: { product: string; version: string; codename: string; channel: string } };
      expect(body.status).toBe('ok');
      // The SDK takes the leading digits of release.version (else version) as the server major; < 4 is refused.
      expect(Number(/^(\d+)/.exec(body.release.version)?.[1])).toBe(5);
      expect(body.version).toBe(body.release.version);
      expect(body.release).toMatchObject({ product: 'Athena', codename: expect.any(String), channel: 'stable' });
    }
  });

  it('echoes a sane x-request-id and replaces an insane one', async () => {
    const echoed = await gateway.fetch('http://gateway/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await gateway.fetch('http://gateway/health', { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).not.toBe('bad id <script>');
  });

  it('unknown routes get the JSON error envelope', async () => {
    const res = await gateway.fetch('http://gateway/nope');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('not_found');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('reaches Postgres through the Neon driver and the WebSocket proxy', async () => {
    const res = await gateway.fetch('http://gateway/__gateway/ready', {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const body = (await res.json()) as { status: string; databaseTime: string };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Date.parse(body.databaseTime)).toBeGreaterThan(Date.parse('2020-01-01'));
  });

  it.each(['ws', 'http'])(
    "ready reports, per target, the statement and lock timeout the server has in force for the gateway's statements over DB_TRANSPORT=%s; the status document keeps them",
    async (transport) => {
      const vars = { TEST_ISOLATE: `health-ready-timeouts-${transport}`, DB_TRANSPORT: transport, DB_STATEMENT_TIMEOUT_MS: '4321' };
      const headers = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      const res = await fetchWith(vars, 'http://gateway/__gateway/ready', { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; targets: { target: string; statementTimeoutMs: number; lockTimeoutMs: number; inForce: boolean }[] };
      expect(body.status).toBe('ready');
      // Catalog and tenant are two databases in the test stack (logging shares the catalog's).
      expect(body.targets).toHaveLength(2);
      for (const t of body.targets) expect(t).toMatchObject({ statementTimeoutMs: 4321, lockTimeoutMs: 4321, expectedMs: 4321, inForce: true });
      const status = (await (await fetchWith(vars, 'http://gateway/__gateway/status', { headers })).json()) as { serverTimeouts: unknown[] };
      expect(status.serverTimeouts).toEqual(body.targets);
    },
  );
});
