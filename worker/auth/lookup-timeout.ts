/** How long one auth lookup may take end to end before callers stop waiting for it. */
import type { Settings } from '../config.js';
import { systemClock } from '../admission/clock.js';
import { createLoadingCache, type LoadingCache } from './cache.js';

/** Slack for scheduling and closing on top of the configured timeouts. */
const MARGIN_MS = 500;

/**
 * Acquire (extended once through a resume: connect + acquire more) + connect + lookup timeouts + a
 * margin: past this a lookup's leader is presumed lost.
 */
export function lookupTimeoutMs(settings: Settings): number {
  return 2 * (settings.DB_ACQUIRE_TIMEOUT_MS + settings.DB_CONNECT_TIMEOUT_MS) + settings.AUTH_LOOKUP_TIMEOUT_MS + MARGIN_MS;
}

/**
 * A single-flight read that keeps nothing: one entry that expires at once, so `get` always runs (or
 * follows the running) read, bounded like any auth lookup.
 */
export function createSingleFlight<T>(settings: Settings): LoadingCache<T> {
  return createLoadingCache<T>({
    maxEntries: 1,
    ttlMs: 0,
    negativeTtlMs: 0,
    staleIfUnavailableMs: 0,
    flightTimeoutMs: lookupTimeoutMs(settings),
    ...systemClock,
  });
}
