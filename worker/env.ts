/** The one typed Hono env of the worker: bindings in, per-request variables out. */
import type { Settings } from './config.js';
import type { Isolate } from './isolate.js';

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
  };
};
