/**
 * The status document: each part asks its owner module for a snapshot of the isolate's state.
 * Nothing here may carry a secret: targets appear as `host:port/database` labels, keys as prefixes,
 * settings through `redactedSettings`, and every string is scrubbed once more before it leaves.
 */
import { admissionSnapshot } from '../admission/registry.js';
import { authStatus } from '../auth/auth-metrics.js';
import { redactedSettings } from '../config.js';
import type { Isolate } from '../isolate.js';
import { scrub } from '../log.js';
import { refusalSnapshot } from '../middleware/refusals.js';
import { rateLimitSnapshot } from '../ratelimit/counters.js';
import { telemetrySnapshot } from '../telemetry/task.js';
import { VERSION } from '../version.js';

/** JSON-safe value whose every string has passed `scrub`. */
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The `/__gateway/status` body for this isolate at `now`. */
export function isolateStatus(isolate: Isolate, requestId: string, now: number) {
  return {
    version: VERSION,
    requestId,
    isolate: { startedAt: new Date(isolate.startedAt).toISOString(), uptimeMs: now - isolate.startedAt },
    budgets: scrubbed(admissionSnapshot(isolate)),
    keyCache: scrubbed(isolate.services.keyCache.stats()),
    policyCache: scrubbed(isolate.services.policyCache.stats()),
    auth: scrubbed(authStatus(isolate)),
    refusals: scrubbed(refusalSnapshot(isolate)),
    rateLimits: scrubbed(rateLimitSnapshot(isolate)),
    batcher: scrubbed(isolate.services.counters.snapshot()),
    telemetry: scrubbed(telemetrySnapshot(isolate)),
    settings: scrubbed(redactedSettings(isolate.settings)),
  };
}

/** Deep copy with scrubbed strings; drops undefined and functions. */
function scrubbed(value: unknown): Json {
  if (typeof value === 'string') return scrub(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map(scrubbed);
  if (value instanceof Map) return scrubbed(Object.fromEntries(value));
  if (typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[k] = scrubbed(v);
    return out;
  }
  return null;
}
