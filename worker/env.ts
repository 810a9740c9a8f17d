/** The one typed Hono env of the worker: bindings in, per-request variables out. */
import type { RequestContext } from './request-context.js';
import type { AuthContext } from './auth/context.js';
import type { ErrorCode } from './errors.js';
import type { Operation } from '../drizzle/schema.js';
import type { Bindings } from './bindings.js';

/**
 * Every request's env. Only `ctx` exists for every request (the request-context middleware sets it
 * before anything else runs); the others exist only where their middleware or handler set them.
 */
export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    /** Set first, by the request-context middleware: everything else of the request reads it. */
    ctx: RequestContext;
    /** Set by the auth middleware: present behind it (`AuthedEnv`), absent before it and on other routes. */
    auth?: AuthContext;
    /** Set by a data handler once it knows its table: the table × operation the counters record. */
    counted?: { tableName: string; operation: Operation };
    /** Set by the error middleware with the envelope it answered with: read by counters and logs. */
    errorCode?: ErrorCode;
  };
};

/**
 * The env behind `authenticate()`, which sets `auth` before it calls the rest of the chain: its own
 * handler chain (verify.ts) and the data routes, which index.ts mounts behind it.
 */
export type AuthedEnv = { Bindings: Bindings; Variables: AppEnv['Variables'] & { auth: AuthContext } };
