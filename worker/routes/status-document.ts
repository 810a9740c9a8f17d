/**
 * The status document: each part asks its owner module for a snapshot of the isolate's state.
 * Nothing here may carry a secret: targets appear as `host:port/database` labels, keys as prefixes,
 * settings through `redactedSettings`, and every string is scrubbed once more before it leaves.
 */
import { admissionSnapshot } from '../admission/registry.js';
import { authStatus } from '../auth/auth-metrics.js';
import { changesSnapshot } from '../auth/catalog-changes.js';
import { redactedSettings } from '../config.js';
import type { Isolate } from '../isolate.js';
import { scrub } from '../log.js';
import { refusalSnapshot } from '../fleet/refusal-counts.js';
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
    // The id the fleet view lists this isolate under (status --fleet, the flusher's /fleet).
    isolate: { id: isolate.services.fleet.id, startedAt: new Date(isolate.startedAt).toISOString(), uptimeMs: now - isolate.startedAt },
    budgets: scrubbed(admissionSnapshot(isolate.services.budgets, isolate.services.slowAcquire)),
    serverTimeouts: scrubbed([...isolate.services.serverTimeouts.values()]),
    keyCache: scrubbed(isolate.services.keyCache.stats()),
    policyCache: scrubbed(isolate.services.policyCache.stats()),
    catalogChanges: scrubbed(changesSnapshot(isolate.services, now)),
    auth: scrubbed(authStatus(isolate.settings, isolate.services)),
    refusals: scrubbed(refusalSnapshot(isolate.services.refusals)),
    rateLimits: scrubbed(rateLimitSnapshot(isolate.services.rateLimits)),
    batcher: scrubbed(isolate.services.counters.snapshot()),
    telemetry: scrubbed(telemetrySnapshot(isolate.services.telemetry)),
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
