/** The one typed Hono env of the worker: bindings in, per-request variables out. */
import type { Settings } from './config.js';
import type { Isolate } from './isolate.js';
import type { AuthContext } from './auth/context.js';
import type { Operation } from '../drizzle/schema.js';

/** Wrangler vars and secrets (all strings; parsed by config.ts). */
export type Bindings = Record<string, string | undefined>;

export type AppEnv = {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    /** `performance.now()`-style start of this request, in ms. */
    startedAt: number;
    settings: Settings;
    isolate: Isolate;
    /** Set by the auth middleware on /gateway/* and /v1/auth/*. */
    auth: AuthContext;
    /** Set by a data handler once it knows its table: what the usage counters record. */
    usage: { tableName: string; operation: Operation };
  };
};
