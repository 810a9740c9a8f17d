/** The `SessionContext` of a request: its isolate, request id and `waitUntil`, from the Hono context. */
import type { Context } from 'hono';
import type { AppEnv } from '../env.js';
import type { SessionContext } from './with-session.js';

export function sessionContextOf(c: Context<AppEnv>): SessionContext {
  return { isolate: c.get('isolate'), waitUntil: (p) => waitUntilOf(c, p), requestId: c.get('requestId') };
}

/** `waitUntil` of the request; outside a Workers execution context the promise just runs. */
function waitUntilOf(c: Context<AppEnv>, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    void promise.catch(() => undefined);
  }
}
