/** The HTTP edge of failures: one `onError` and one `notFound`, both writing the error envelope. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../env.js';
import { GatewayError, errorResponse } from '../errors.js';
import { log } from '../log.js';
import { loggablePath } from '../telemetry/loggable-path.js';

const requestIdOf = (c: Context<AppEnv>): string | undefined => c.get('requestId');

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof GatewayError) return errorResponse(err, requestIdOf(c));
  if (err instanceof HTTPException && err.status < 500) {
    const code = err.status === 413 ? 'payload_too_large' : err.status === 405 ? 'method_not_allowed' : 'invalid_request';
    return errorResponse(new GatewayError(code, err.message || 'Invalid request'), requestIdOf(c));
  }
  log('error', 'unhandled_error', {
    requestId: requestIdOf(c),
    path: loggablePath(c.req.url),
    error: err instanceof Error ? err.name : 'unknown',
    message: err instanceof Error ? err.message.slice(0, 300) : undefined,
  });
  return errorResponse(new GatewayError('internal_error', 'Internal gateway error'), requestIdOf(c));
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(
    new GatewayError('not_found', `No route for ${c.req.method} ${c.req.path}`, {
      hint: 'The routes are /gateway/fetch, /gateway/insert, /gateway/update, /gateway/delete and /health (docs/protocol.md).',
    }),
    requestIdOf(c),
  );
