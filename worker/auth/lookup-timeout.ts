/** How long one auth lookup may take end to end before callers stop waiting for it. */
import type { Settings } from '../config.js';

/** Margin for opening the WebSocket session on top of the acquire and statement timeouts. */
const CONNECT_MARGIN_MS = 2000;

/** Acquire timeout + statement timeout + connect margin: past this a lookup's leader is presumed lost. */
export function lookupTimeoutMs(settings: Settings): number {
  return settings.DB_ACQUIRE_TIMEOUT_MS + settings.DB_STATEMENT_TIMEOUT_MS + CONNECT_MARGIN_MS;
}
