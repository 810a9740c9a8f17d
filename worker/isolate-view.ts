/**
 * The isolate as request code reaches it through a session context (`ctx.isolate`): its settings,
 * start time and the state the database, auth, telemetry and counter paths share. Every type here
 * comes from a module that does not import this one back; the isolate itself (a superset of this
 * view) is assembled in isolate.ts, which only the request-context middleware imports.
 */
import type { Budgets } from './admission/registry.js';
import type { SlowAcquireTracker } from './admission/slow-acquire.js';
import type { LoadingCache } from './auth/cache-types.js';
import type { ChangesService } from './auth/change-tracker.js';
import type { DirectoryService } from './auth/directory.js';
import type { ShareGate } from './auth/fair-share.js';
import type { SigningKeys } from './auth/key-check.js';
import type { ClientPolicy, KeyRecord } from './auth/records.js';
import type { Settings } from './config.js';
import type { FleetMeter } from './fleet/meter.js';
import type { RefusalSnapshot } from './fleet/refusal-counts.js';
import type { TelemetryState } from './telemetry/limiter.js';

export type IsolateView = {
  readonly settings: Settings;
  /** Epoch ms at which the isolate was assembled. */
  readonly startedAt: number;
  readonly services: {
    /** Admission budgets, one per connection target. */
    readonly budgets: Budgets;
    readonly slowAcquire: SlowAcquireTracker;
    readonly keyCache: LoadingCache<KeyRecord>;
    /** Per-name client policies, used only beyond the client directory's bound. */
    readonly policyCache: LoadingCache<ClientPolicy>;
    /** The client directory (every client's policy and live key prefixes), one entry. */
    readonly directory: DirectoryService;
    /** What the isolate knows of catalog changes, and its one epoch check at a time. */
    readonly changes: ChangesService;
    readonly shareGate: ShareGate;
    readonly signingKeys: SigningKeys;
    readonly telemetry: TelemetryState;
    /** Requests refused (status ≥ 400) by code and status. */
    readonly refusals: RefusalSnapshot;
    /** This isolate's id and request meter for the fleet snapshot (docs/operations.md "Fleet view"). */
    readonly fleet: FleetMeter;
  };
};
