/**
 * `fleetMeter()`: counts every answer of the isolate by route family and status, with its latency,
 * for the fleet snapshot (worker/fleet/). Mounted right after `requestContext()`, so it sees every
 * answer the chain gave, refusals included. A few array increments per request, no allocation.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { routeFamily } from '../fleet/route-family.js';

export const fleetMeter = (): MiddlewareHandler<AppEnv> =>
  async function fleetMeter(c, next) {
    try {
      await next();
    } finally {
      const ctx = c.get('ctx');
      ctx.services.fleet.record(routeFamily(c.req.path), c.res.status, Date.now() - ctx.startedAt);
    }
  };
