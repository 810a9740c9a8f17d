/**
 * `GET /v1/auth/verify`: who the presented key is — client, key id and prefix, scopes, expiry (never
 * the hash) — through the same auth path as the data routes, so other services can rely on it.
 * `X-Athena-Client` is optional here: without it the key's own client is checked.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { AuthContext } from '../auth/context.js';
import { authenticate } from '../middleware/authenticate.js';

export const verify = new Hono<AppEnv>();

/**
 * The body per admitted context. Auth reuses one context per cached key record, so a cache hit
 * serializes nothing; a context is plain data that never changes, so neither does its body.
 */
const bodies = new WeakMap<AuthContext, string>();
const JSON_TYPE = { 'Content-Type': 'application/json' } as const;

function bodyOf(auth: AuthContext): string {
  let body = bodies.get(auth);
  if (body === undefined) {
    const { clientName, key } = auth;
    body = JSON.stringify({
      data: {
        client: clientName,
        authenticated: true,
        key: key ? { id: key.id, prefix: key.prefix, scopes: key.scopes, expires_at: key.expiresAt } : null,
      },
    });
    bodies.set(auth, body);
  }
  return body;
}

verify.get('/v1/auth/verify', authenticate({ client: 'header-or-key', requireKey: true, allowFailOpen: false }), (c) =>
  c.body(bodyOf(c.get('auth')), 200, JSON_TYPE),
);
