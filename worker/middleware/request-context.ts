/**
 * First middleware: request id (echoed when sane, else generated), start time, settings and isolate
 * state on `c.var`, and `x-request-id` on every response. Misconfiguration answers 500 here.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { isolateFor } from '../isolate.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestContext = (): MiddlewareHandler<AppEnv> =>
  async function requestContext(c, next) {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    c.set('startedAt', Date.now());
    const entry = isolateFor(c.env ?? {});
    if (!entry.ok) {
      throw new GatewayError('gateway_misconfigured', `Gateway misconfigured: ${entry.variable} ${entry.problem}`, {
        hint: `Fix the ${entry.variable} var or secret of this worker.`,
      });
    }
    c.set('isolate', entry.isolate);
    c.set('settings', entry.isolate.settings);
    await next();
    c.header('x-request-id', requestId);
  };
