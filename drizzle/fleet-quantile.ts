/** Quantiles of the isolate snapshot's latency histograms (drizzle/fleet-snapshot.ts). Pure. */
import { LATENCY_BOUNDS_MS } from './fleet-snapshot.js';

/** Three decimals: enough for rates and milliseconds, short in JSON. */
export const round = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * The `q` quantile of a histogram over LATENCY_BOUNDS_MS (plain per-bucket counts), interpolated
 * linearly inside its bucket as Prometheus' histogram_quantile does; the overflow bucket answers
 * the largest bound. Null without observations.
 */
export function latencyQuantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, n) => a + n, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    const upper = LATENCY_BOUNDS_MS[i];
    if (upper === undefined) return lower; // overflow: beyond the largest bound
    if (n > 0 && seen + n >= rank) return round(lower + ((upper - lower) * (rank - seen)) / n);
    seen += n;
    lower = upper;
  }
  return lower;
}
