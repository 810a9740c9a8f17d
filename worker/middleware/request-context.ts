/**
 * First middleware: builds the request's context once — request id (echoed when sane, else
 * generated), start time, settings and the isolate's services — and stores it as `c.var.ctx`;
 * `x-request-id` goes on every response. Misconfiguration answers 500 here.
 */
import type { ExecutionContext, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { isolateFor } from '../isolate.js';
import { RequestContext } from '../request-context.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestContext = (): MiddlewareHandler<AppEnv> =>
  async function requestContext(c, next) {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const startedAt = Date.now();
    const entry = isolateFor(c.env ?? {});
    if (!entry.ok) {
      throw new GatewayError('gateway_misconfigured', `Gateway misconfigured: ${entry.variable} ${entry.problem}`, {
        hint: `Fix the ${entry.variable} var or secret of this worker.`,
      });
    }
    c.set('ctx', new RequestContext(entry.isolate, requestId, startedAt, executionContextOf(c)));
    // Set before the handler runs, so the response is built with it (no rebuilt response after);
    // error envelopes carry it themselves.
    c.header('x-request-id', requestId);
    await next();
  };

/** Hono's getter throws outside a Workers execution context (a bare `app.request`). */
function executionContextOf(c: { executionCtx: ExecutionContext }): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
