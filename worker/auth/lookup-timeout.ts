/** How long one auth lookup may take end to end before callers stop waiting for it. */
import type { Settings } from '../config.js';

/** Slack for scheduling and closing on top of the configured timeouts. */
const MARGIN_MS = 500;

/** Acquire + connect + lookup timeouts + a margin: past this a lookup's leader is presumed lost. */
export function lookupTimeoutMs(settings: Settings): number {
  return settings.DB_ACQUIRE_TIMEOUT_MS + settings.DB_CONNECT_TIMEOUT_MS + settings.AUTH_LOOKUP_TIMEOUT_MS + MARGIN_MS;
}
