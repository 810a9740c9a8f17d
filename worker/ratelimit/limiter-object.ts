/**
 * `RateLimiter`: the Durable Object behind every rate limit — one instance per window name
 * (`key:<id>` or `client:<name>`), so all isolates and locations count in the same place and the
 * limit is exact. Its state is the current window only, in memory: periods are at most 60 s, and
 * an idle object is evicted only after its window has long closed.
 * The limit travels with each call (`?q=<requests>&w=<period s>`): the object never reads the catalog.
 */
import { z } from 'zod';
import { RATE_LIMIT_MAX_PERIOD_S } from '../../drizzle/schema.js';
import { MAX_LIMIT_REQUESTS } from './limit.js';
import { hitWindow, type WindowState } from './window.js';

const query = z.object({
  q: z.coerce.number().int().min(1).max(MAX_LIMIT_REQUESTS),
  w: z.coerce.number().int().min(1).max(RATE_LIMIT_MAX_PERIOD_S),
});

export class RateLimiter {
  private window: WindowState | undefined;

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const parsed = query.safeParse({ q: url.searchParams.get('q'), w: url.searchParams.get('w') });
    if (!parsed.success) return Response.json({ error: 'invalid limit' }, { status: 400 });
    const { state, verdict } = hitWindow(this.window, Date.now(), parsed.data.q, parsed.data.w * 1000);
    this.window = state;
    return Response.json(verdict);
  }
}
