/** The one typed Hono env of the worker: bindings in, per-request variables out. */
import type { RequestScope } from './request-scope.js';
import type { AuthContext } from './auth/context.js';
import type { ErrorCode } from './errors.js';
import type { Operation } from '../drizzle/schema.js';

/** Wrangler vars and secrets (all strings; parsed by config.ts). */
export type Bindings = Record<string, string | undefined>;

export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    /** Set first, by the request-context middleware: everything else of the request reads it. */
    scope: RequestScope;
    /** Set by the auth middleware on /gateway/* and /v1/auth/*. */
    auth: AuthContext;
    /** Set by a data handler once it knows its table: the table × operation the counters record. */
    counted: { tableName: string; operation: Operation };
    /** Set by the error middleware with the envelope it answered with: read by counters and logs. */
    errorCode: ErrorCode;
  };
};
