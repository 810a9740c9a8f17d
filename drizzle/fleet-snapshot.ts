/**
 * The isolate snapshot wire shape (docs/counters.md "The snapshot"): what each counter batch carries
 * in its optional `snapshot` field, and what the direct sink stores in `isolate_snapshots`. Every
 * number is cumulative since the isolate started, so a reader computes rates from two snapshots of
 * one isolate (drizzle/fleet-view.ts). Labels are bounded: route families and status classes are
 * closed lists, refusal codes and targets are capped in count and length.
 */
import { z } from 'zod';

/** Route families a request is counted under (worker/fleet/route-family.ts maps paths onto them). */
export const ROUTE_FAMILIES = ['fetch', 'insert', 'update', 'delete', 'query', 'rpc', 'transaction', 'verify', 'health', 'admin', 'other'] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

/**
 * The status counters of a family, in this order: classes 2xx, 3xx, 4xx, 5xx, then 429 and 503
 * again on their own (each also counted in its class).
 */
export const STATUS_COLUMNS = ['2xx', '3xx', '4xx', '5xx', '429', '503'] as const;
export type StatusColumn = (typeof STATUS_COLUMNS)[number];

/** Upper bounds (ms, inclusive) of the latency buckets; one more bucket holds everything slower. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

/** Telemetry drop reasons (worker/telemetry/limiter.ts). */
export const DROP_REASONS = ['saturated', 'unavailable', 'failed'] as const;

/** At most this many refusal codes and budget targets per snapshot (the rest are summed or cut). */
export const MAX_CODES = 64;
export const MAX_TARGETS = 32;

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const instant = z.iso.datetime({ offset: true });
const code = z.string().regex(/^[a-z0-9_]{1,48}$/);

const familySchema = z.strictObject({
  /** Requests per STATUS_COLUMNS entry. */
  status: z.array(count).length(STATUS_COLUMNS.length),
  /** Requests per latency bucket: LATENCY_BOUNDS_MS, then one overflow bucket. */
  latency: z.array(count).length(LATENCY_BOUNDS_MS.length + 1),
  /** Sum of the durations, ms. */
  latency_sum_ms: count,
});

const budgetSchema = z.strictObject({
  /** `host:port/database`, never credentials. */
  target: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\u0000@]*$/, 'must not contain NUL or @'),
  in_use: count,
  size: count,
  waiting: count,
  /** Acquires that waited longer than DB_ACQUIRE_SLOW_MS. */
  slow_acquires: count,
  /** Waits that ended without a permit. */
  timeouts: count,
  acquired: count,
});

export const isolateSnapshotSchema = z.strictObject({
  /** Random per isolate, chosen when it starts. */
  isolate_id: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/),
  started_at: instant,
  /** When the snapshot was taken. */
  at: instant,
  uptime_ms: count,
  budgets: z.array(budgetSchema).max(MAX_TARGETS),
  /** Refusals (status ≥ 400) by error code. */
  refusals: z.record(code, count).refine((r) => Object.keys(r).length <= MAX_CODES, `at most ${MAX_CODES} codes`),
  /** Only families that saw a request. */
  routes: z.partialRecord(z.enum(ROUTE_FAMILIES), familySchema),
  telemetry: z.strictObject({
    accepted: count,
    dropped: z.strictObject({ saturated: count, unavailable: count, failed: count }),
  }),
});

export type IsolateSnapshot = z.infer<typeof isolateSnapshotSchema>;
export type FamilyCounts = z.infer<typeof familySchema>;
export type BudgetCounts = z.infer<typeof budgetSchema>;
