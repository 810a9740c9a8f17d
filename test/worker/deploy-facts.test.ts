/**
 * What an operator meets on a first deploy, inside workerd: a Neon connection string as the
 * console prints it (`sslmode=require&channel_binding=require`) works with the worker's driver setup,
 * and a wrong path gets a 404 whose hint names every route family.
 */
import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';
import { databaseUrl, fetchWith, gateway } from './harness.js';

describe('first-deploy facts', () => {
  it('a DATABASE_URL carrying channel_binding=require reaches Postgres (the driver ignores the libpq-only parameter)', async () => {
    const url = new URL(databaseUrl);
    url.searchParams.set('channel_binding', 'require');
    const res = await fetchWith({ DATABASE_URL: url.toString() }, 'http://gateway/__gateway/ready', {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(await res.json()).toMatchObject({ status: 'ready' });
    expect(res.status).toBe(200);
  });

  it('an unknown path: 404 not_found whose hint lists every route family', async () => {
    const res = await gateway.fetch('http://gateway/v2/nothing-here');
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; hint: string } };
    expect(error.code).toBe('not_found');
    for (const route of [
      '/gateway/fetch',
      '/gateway/insert',
      '/gateway/update',
      '/gateway/delete',
      '/gateway/query',
      '/gateway/rpc',
      '/gateway/transaction',
      'GET /rpc/<fn>',
      '/db/gateway/fetch',
      '/v1/auth/verify',
      '/health',
      '/__gateway/ready',
      '/__gateway/status',
      '/__gateway/flush',
    ]) {
      expect(error.hint).toContain(route);
    }
  });
});
