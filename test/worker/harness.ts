/**
 * The one harness for tests inside workerd: the worker under test (`gateway.fetch`), the
 * injected database URLs, and a way to run the app with overridden vars (a separate isolate state).
 */
import { exports, env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { inject } from 'vitest';
import app from '../../worker/index.js';
import type { Isolate } from '../../worker/isolate.js';
import type { Target } from '../../worker/db/target.js';
import type { BudgetSnapshot } from '../../worker/admission/budget.js';
import type { CacheStats } from '../../worker/auth/cache.js';

/** The worker as wrangler.toml configures it, with the test bindings. */
export const gateway = (exports as unknown as { default: Fetcher }).default;

export const databaseUrl = inject('databaseUrl');
export const tenantDatabaseUrl = inject('tenantDatabaseUrl');
export const adminDatabaseUrl = inject('adminDatabaseUrl');

/** The test bindings (vars from wrangler.toml plus the injected URLs and proxy). */
export const baseEnv = env as unknown as Record<string, string>;

/**
 * Calls the app with extra vars (e.g. `{ DB_POOL_MAX: '2' }`). Different vars get their own isolate
 * state (budgets, caches), so tests do not share admission state by accident. Waits for waitUntil work.
 */
export async function fetchWith(vars: Record<string, string>, input: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(input, init), { ...baseEnv, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One target's budget in `isolate`, or undefined when it never used that target. */
export function budgetSnapshotFor(isolate: Isolate, target: Target): BudgetSnapshot | undefined {
  return isolate.services.budgets.get(target.key)?.budget.snapshot();
}

/** Counters of the isolate's key and policy caches. */
export function authCacheStats(isolate: Isolate): { keys: CacheStats; policies: CacheStats } {
  return { keys: isolate.services.keyCache.stats(), policies: isolate.services.policyCache.stats() };
}
