/**
 * The isolate, assembled here and only here: its settings and every piece of state that outlives a
 * request, created once per isolate (per distinct configuration, so tests can run several
 * configurations in one runtime). Each service is plain data or a pure policy behind its own type —
 * never a connection, socket or promise bound to a request. Only the request-context middleware
 * imports this module; request code reaches the state as `c.var.ctx.services`, and code below the
 * request layer takes the one piece it uses (a budget map, a counter, a cache) or the narrower
 * `IsolateView` a session context carries.
 */
import { createSlowAcquireLog } from './admission/slow-acquire-log.js';
import { createAuthRefusals } from './auth/auth-metrics.js';
import { createAuthShareGate } from './auth/auth-query.js';
import { createChangesService } from './auth/catalog-changes.js';
import { createDirectoryService } from './auth/client-directory.js';
import { createKeyCache } from './auth/keys.js';
import { createPolicyCache } from './auth/policy.js';
import type { RefusalCounters } from './auth/refusals.js';
import { parseSettings, type ConfigResult, type Settings } from './config.js';
import { createCountersService } from './counters/service.js';
import type { CountersService } from './counters/service-types.js';
import type { ServerTimeoutsLog } from './db/server-timeouts.js';
import type { Bindings } from './bindings.js';
import { createFleetMeter, newIsolateId } from './fleet/meter.js';
import { createRefusalCounts } from './fleet/refusal-counts.js';
import type { CatalogCache } from './gateway/catalog.js';
import { createTenantCatalogs } from './gateway/catalog-source.js';
import type { ForeignKeyCache } from './gateway/foreign-keys.js';
import type { IsolateView } from './isolate-view.js';
import { log } from './log.js';
import { createRateLimitCounters, type RateLimitCounters } from './ratelimit/counters.js';
import { createTelemetryState } from './telemetry/task.js';

export type Services = IsolateView['services'] & {
  readonly authRefusals: RefusalCounters;
  readonly rateLimits: RateLimitCounters;
  /** Tenant catalogs and the foreign keys that go with each catalog object. */
  readonly catalogs: CatalogCache;
  readonly foreignKeys: ForeignKeyCache;
  readonly counters: CountersService;
  /** The timeouts each target's server last said were in force (readiness checks). */
  readonly serverTimeouts: ServerTimeoutsLog;
};

export type Isolate = IsolateView & { readonly services: Services };

export function createServices(settings: Settings): Services {
  return {
    budgets: new Map(),
    slowAcquire: createSlowAcquireLog(settings),
    keyCache: createKeyCache(settings),
    policyCache: createPolicyCache(settings),
    directory: createDirectoryService(settings),
    changes: createChangesService(settings),
    shareGate: createAuthShareGate(settings),
    authRefusals: createAuthRefusals(),
    signingKeys: { keys: undefined },
    rateLimits: createRateLimitCounters(),
    catalogs: createTenantCatalogs(settings),
    foreignKeys: new WeakMap(),
    telemetry: createTelemetryState(settings),
    counters: createCountersService(settings),
    refusals: createRefusalCounts(),
    serverTimeouts: new Map(),
    fleet: createFleetMeter(newIsolateId()),
  };
}

type IsolateEntry = { ok: true; isolate: Isolate } | { ok: false; variable: string; problem: string };

const byEnv = new WeakMap<object, IsolateEntry>();
const byFingerprint = new Map<string, IsolateEntry>();
const MAX_CONFIGURATIONS = 16;

function createIsolate(settings: Settings): Isolate {
  if (settings.AUTH_FAIL_MODE === 'open') {
    log('warn', 'auth_fail_mode_open', { message: 'AUTH_FAIL_MODE=open: requests are admitted when keys cannot be validated' });
  }
  return { settings, startedAt: Date.now(), services: createServices(settings) };
}

function build(result: ConfigResult): IsolateEntry {
  if (!result.ok) {
    log('error', 'gateway_misconfigured', { variable: result.variable, problem: result.problem });
    return result;
  }
  return { ok: true, isolate: createIsolate(result.settings) };
}

/** The isolate state for these bindings, created on first use and reused afterwards. */
export function isolateFor(env: Partial<Bindings> | Readonly<Record<string, unknown>>): IsolateEntry {
  const cached = byEnv.get(env);
  if (cached) return cached;
  const fingerprint = JSON.stringify(
    Object.entries(env)
      .filter(([, v]) => typeof v === 'string')
      .sort(),
  );
  let entry = byFingerprint.get(fingerprint);
  if (!entry) {
    entry = build(parseSettings(Object.fromEntries(Object.entries(env))));
    if (byFingerprint.size >= MAX_CONFIGURATIONS) byFingerprint.delete(byFingerprint.keys().next().value as string);
    byFingerprint.set(fingerprint, entry);
  }
  byEnv.set(env, entry);
  return entry;
}
