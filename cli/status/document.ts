/**
 * The parts of the worker's `/__gateway/status` document the console shows, validated with zod.
 * Fields added later (refusals, slow acquires, rate limits, the client directory) default to zero so an older deployed worker still
 * renders.
 */
import { z } from 'zod';

const count = z.number().catch(0).default(0);
const cache = z.object({ hits: count, misses: count }).default({ hits: 0, misses: 0 });

export const statusDocument = z.object({
  version: z.string(),
  isolate: z.object({ uptimeMs: count }),
  budgets: z.array(
    z.object({
      target: z.string(),
      size: count,
      inUse: count,
      /** Of inUse: sessions being given up (cancelled on the server) after their lease. */
      reclaiming: count,
      waiting: count,
      timeouts: count,
      maxWaitMs: count,
      slowAcquires: count,
      acquiresSeen: count,
      waitedMsTotal: count,
    }),
  ),
  serverTimeouts: z
    .array(
      z.object({
        target: z.string(),
        statementTimeoutMs: z.number().nullable().catch(null),
        lockTimeoutMs: z.number().nullable().catch(null),
        inForce: z.boolean().catch(false),
      }),
    )
    .catch([])
    .default([]),
  keyCache: cache,
  policyCache: cache,
  auth: z
    .object({
      directory: z
        .object({
          loaded: z.boolean().catch(false).default(false),
          clients: count,
          ageMs: z.number().nullable().catch(null).default(null),
          loads: count,
          failures: count,
        })
        .default({ loaded: false, clients: 0, ageMs: null, loads: 0, failures: 0 }),
    })
    .default({ directory: { loaded: false, clients: 0, ageMs: null, loads: 0, failures: 0 } }),
  refusals: z
    .object({ total: count, byCode: z.record(z.string(), z.number()).default({}), byStatus: z.record(z.string(), z.number()).default({}) })
    .default({ total: 0, byCode: {}, byStatus: {} }),
  rateLimits: z
    .object({ limited: count, limiterUnavailable: count, byClient: z.record(z.string(), z.object({ limited: count, blocked: count })).default({}) })
    .default({ limited: 0, limiterUnavailable: 0, byClient: {} }),
  batcher: z.object({
    sink: z.string().default('?'),
    pendingKeys: count,
    pendingAgeMs: z.number().nullable().default(null),
    lastFlushAt: z.number().nullable().default(null),
    lastFailureAt: z.number().nullable().default(null),
    lastError: z.string().nullable().default(null),
  }),
  telemetry: z.object({ accepted: count, dropped: z.record(z.string(), z.number()).default({}) }),
  settings: z.object({ DB_ACQUIRE_SLOW_MS: z.number().optional() }).default({}),
});

export type StatusDocument = z.output<typeof statusDocument>;
