/** The bench's one way to summarise samples: nearest-rank percentiles and the median. */

/** The `q` (0–1) nearest-rank percentile of samples already sorted ascending; 0 without samples. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** The `q` (0–1) nearest-rank percentile of `xs`, in any order; 0 without samples. */
export const quantile = (xs: readonly number[], q: number): number => sortedQuantile(Float64Array.from(xs).sort(), q);

/** The middle sample, or the mean of the two middle ones; 0 without samples. */
export function median(xs: readonly number[]): number {
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}
