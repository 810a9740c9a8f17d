/**
 * `RateLimiter`: the Durable Object behind every rate limit — one instance per window name
 * (`key:<id>` or `client:<name>`), so all isolates and locations count in the same place and the
 * limit is exact. Its state is the current window only, in memory: periods are at most 60 s, and
 * an idle object is evicted only after its window has long closed.
 * Called over Durable Object RPC (`stub.hit(requests, periodS)`): the limit travels with each call,
 * typed end to end, and the object never reads the catalog.
 */
import { DurableObject } from 'cloudflare:workers';
import { RATE_LIMIT_MAX_PERIOD_S } from '../../drizzle/schema.js';
import { MAX_LIMIT_REQUESTS } from './limit.js';
import { hitWindow, type Verdict, type WindowState } from './window.js';

const whole = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;

export class RateLimiter extends DurableObject {
  private window: WindowState | undefined;

  /** Counts one request against `requests` per `periodS` seconds; throws (the caller lets the request through) on a limit no catalog row can hold. */
  hit(requests: number, periodS: number): Verdict {
    if (!whole(requests, 1, MAX_LIMIT_REQUESTS) || !whole(periodS, 1, RATE_LIMIT_MAX_PERIOD_S)) throw new RangeError('invalid limit');
    const { state, verdict } = hitWindow(this.window, Date.now(), requests, periodS * 1000);
    this.window = state;
    return verdict;
  }
}
