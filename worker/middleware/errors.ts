/**
 * The HTTP edge of failures: one `onError` and one `notFound`, both writing the error envelope, and
 * `answerError` for middleware that answers a refusal itself. Each records the code it answered
 * with as `c.var.errorCode`, where the refusal counters, the counters and the request log read it.
 */
import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../env.js';
import { GatewayError, errorResponse, type ErrorCode } from '../errors.js';
import { log } from '../log.js';
import type { RequestContext } from '../request-context.js';
import { loggablePath } from '../telemetry/loggable-path.js';

/**
 * What answering an error uses of a context, whatever its env (a refusal behind `authenticate()`
 * too): the code is recorded, and the request context is read where there is one.
 */
type ErrorEdge = { set(key: 'errorCode', value: ErrorCode): void; get(key: 'ctx'): RequestContext | undefined };

/** The error envelope for `err`, its code recorded on the context. */
export function answerError(c: ErrorEdge, err: GatewayError): Response {
  c.set('errorCode', err.code);
  // No context when the configuration itself is broken (the request-context middleware threw).
  return errorResponse(err, c.get('ctx')?.requestId);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof GatewayError) return answerError(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    const code = err.status === 413 ? 'payload_too_large' : err.status === 405 ? 'method_not_allowed' : 'invalid_request';
    return answerError(c, new GatewayError(code, err.message || 'Invalid request'));
  }
  log('error', 'unhandled_error', {
    requestId: c.get('ctx')?.requestId,
    path: loggablePath(c.req.url),
    error: err instanceof Error ? err.name : 'unknown',
    message: err instanceof Error ? err.message.slice(0, 300) : undefined,
  });
  return answerError(c, new GatewayError('internal_error', 'Internal gateway error'));
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  answerError(
    c,
    new GatewayError('not_found', `No route for ${c.req.method} ${c.req.path}`, {
      hint:
        'The routes are /gateway/fetch, /gateway/insert, /gateway/update, /gateway/delete, /gateway/query, /gateway/rpc (also GET /rpc/<fn>), ' +
        '/gateway/transaction (each also under /db, e.g. /db/gateway/fetch), /v1/auth/verify, /health (also / and /db/health), ' +
        'and for operators /__gateway/ready, /__gateway/status and /__gateway/flush (docs/protocol.md#routes).',
    }),
  );
