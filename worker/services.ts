/**
 * The isolate's services: every piece of state that outlives a request, created once with the
 * isolate and reached as `scope.services` (or `isolate.services`). Each is plain data or a pure
 * policy behind its own type — never a connection, socket or promise bound to a request.
 */
import type { Settings } from './config.js';
import type { Budgets } from './admission/registry.js';
import { createSlowAcquireLog } from './admission/slow-acquire-log.js';
import type { SlowAcquireTracker } from './admission/slow-acquire.js';
import { createAuthRefusals } from './auth/auth-metrics.js';
import { createAuthShareGate } from './auth/auth-query.js';
import type { LoadingCache } from './auth/cache.js';
import { createDirectoryCache } from './auth/client-directory.js';
import type { Directory } from './auth/directory.js';
import type { ShareGate } from './auth/fair-share.js';
import type { SigningKeys } from './auth/key-check.js';
import { createKeyCache, type KeyRecord } from './auth/keys.js';
import { createPolicyCache, type ClientPolicy } from './auth/policy.js';
import type { RefusalCounters } from './auth/refusals.js';
import { createCountersService, type CountersService } from './counters/service.js';
import type { CatalogCache } from './gateway/catalog.js';
import { createTenantCatalogs } from './gateway/catalog-source.js';
import type { ForeignKeyCache } from './gateway/foreign-keys.js';
import type { RefusalSnapshot } from './middleware/refusals.js';
import { createRateLimitCounters, type RateLimitCounters } from './ratelimit/counters.js';
import { createTelemetryState, type TelemetryState } from './telemetry/task.js';

export type Services = {
  /** Admission budgets, one per connection target. */
  readonly budgets: Budgets;
  readonly slowAcquire: SlowAcquireTracker;
  readonly keyCache: LoadingCache<KeyRecord>;
  /** Per-name client policies, used only beyond the client directory's bound. */
  readonly policyCache: LoadingCache<ClientPolicy>;
  /** The client directory (every client's policy and live key prefixes), one entry. */
  readonly directory: LoadingCache<Directory>;
  readonly shareGate: ShareGate;
  readonly authRefusals: RefusalCounters;
  readonly signingKeys: SigningKeys;
  readonly rateLimits: RateLimitCounters;
  /** Tenant catalogs and the foreign keys that go with each catalog object. */
  readonly catalogs: CatalogCache;
  readonly foreignKeys: ForeignKeyCache;
  readonly telemetry: TelemetryState;
  readonly counters: CountersService;
  /** Requests refused (status ≥ 400) by code and status. */
  readonly refusals: RefusalSnapshot;
};

export function createServices(settings: Settings): Services {
  return {
    budgets: new Map(),
    slowAcquire: createSlowAcquireLog(settings),
    keyCache: createKeyCache(settings),
    policyCache: createPolicyCache(settings),
    directory: createDirectoryCache(settings),
    shareGate: createAuthShareGate(settings),
    authRefusals: createAuthRefusals(),
    signingKeys: { keys: undefined },
    rateLimits: createRateLimitCounters(),
    catalogs: createTenantCatalogs(settings),
    foreignKeys: new WeakMap(),
    telemetry: createTelemetryState(settings),
    counters: createCountersService(settings),
    refusals: { total: 0, byCode: {}, byStatus: {} },
  };
}
