/**
 * Guards operator endpoints with `ADMIN_TOKEN` (`Authorization: Bearer …`), compared in constant
 * time. ADMIN_TOKEN may list two tokens (`new,old`) while operators move to a new one; either works.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';

type AdminTokenOptions = {
  /** When true and no ADMIN_TOKEN is configured, the endpoint is open; otherwise it is closed. */
  optional?: boolean;
};

export const requireAdmin = (opts: AdminTokenOptions = {}): MiddlewareHandler<AppEnv> =>
  async function requireAdmin(c, next) {
    const expected = c.get('ctx').settings.ADMIN_TOKEN;
    if (!expected || expected.length === 0) {
      if (opts.optional) return next();
      throw new GatewayError('unauthorized', 'Operator endpoint disabled', { hint: 'Set the ADMIN_TOKEN secret to enable it.' });
    }
    const presented = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim() ?? '';
    // Every token is compared (no early exit), so timing does not tell which one matched.
    const matches = await Promise.all(expected.map((token) => constantTimeEqual(presented, token)));
    if (!matches.includes(true)) {
      throw new GatewayError('unauthorized', 'Missing or invalid admin token', { hint: 'Send Authorization: Bearer <ADMIN_TOKEN>.' });
    }
    await next();
  };

/** Compares digests, so neither length nor content leaks through timing. */
async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
