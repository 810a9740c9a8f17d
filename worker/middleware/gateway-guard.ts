/**
 * `gatewayGuard()`: answers shape errors of the data routes before auth and before any database
 * work — 405 for a wrong method on a known route (with `Allow`), 404 `unsupported_operation` for
 * an operation this gateway does not implement (e.g. `/gateway/aggregate`), 413 for a declared body
 * over `GATEWAY_MAX_BODY_BYTES`. Applies to `/gateway/*` and `/db/gateway/*`.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { answerError } from './errors.js';
import { declaresTooLarge, payloadTooLarge } from '../gateway/body.js';

/** Methods each data route accepts (docs/protocol.md "Routes"). */
const ROUTE_METHODS = {
  fetch: ['POST', 'GET'],
  insert: ['PUT', 'POST'],
  update: ['POST', 'PATCH'],
  delete: ['DELETE', 'POST'],
  query: ['POST'],
  rpc: ['POST'],
  transaction: ['POST'],
} as const satisfies Record<string, readonly string[]>;

const GATEWAY_PATH = /^(?:\/db)?\/gateway\/([^/]+)$/;

export const gatewayGuard = (): MiddlewareHandler<AppEnv> =>
  async function gatewayGuard(c, next) {
    const m = GATEWAY_PATH.exec(c.req.path);
    const op = m?.[1];
    if (op === undefined) return next();
    if (!Object.hasOwn(ROUTE_METHODS, op)) {
      throw new GatewayError('unsupported_operation', `"${op.slice(0, 40)}" is not a supported gateway operation`, {
        hint: 'This gateway implements /gateway/fetch, insert, update, delete, query, rpc and transaction (docs/protocol.md).',
      });
    }
    const allowed: readonly string[] = ROUTE_METHODS[op as keyof typeof ROUTE_METHODS];
    if (!allowed.includes(c.req.method)) {
      const err = new GatewayError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}`, { hint: `Use ${allowed.join(' or ')}.` });
      const res = answerError(c, err);
      res.headers.set('allow', allowed.join(', '));
      return res;
    }
    if (declaresTooLarge(c.req.header('content-length'), c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES)) {
      throw payloadTooLarge(c.get('ctx').settings.GATEWAY_MAX_BODY_BYTES);
    }
    await next();
  };
