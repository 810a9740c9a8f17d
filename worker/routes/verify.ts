/**
 * `GET /v1/auth/verify`: who the presented key is — client, key id and prefix, scopes, expiry (never
 * the hash) — through the same auth path as the data routes, so other services can rely on it.
 * `X-Athena-Client` is optional here: without it the key's own client is checked.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { authenticate } from '../middleware/authenticate.js';

export const verify = new Hono<AppEnv>();

verify.get('/v1/auth/verify', authenticate({ client: 'header-or-key', requireKey: true, allowFailOpen: false }), (c) => {
  const { clientName, key } = c.get('auth');
  return c.json({
    data: {
      client: clientName,
      authenticated: true,
      key: key ? { id: key.id, prefix: key.prefix, scopes: key.scopes, expires_at: key.expiresAt } : null,
    },
  });
});
