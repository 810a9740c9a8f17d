/** Auth cache counters for the status endpoint: size, hits, misses, loads, stale served, … */
import type { Isolate } from '../isolate.js';
import type { CacheStats } from './cache.js';
import { keyCacheStats } from './keys.js';
import { policyCacheStats } from './policy.js';

export type AuthCacheStats = { keys: CacheStats; policies: CacheStats };

/** Counters of this isolate's key and policy caches. */
export function authCacheStats(isolate: Isolate): AuthCacheStats {
  return { keys: keyCacheStats(isolate), policies: policyCacheStats(isolate) };
}
