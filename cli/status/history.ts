/**
 * What `--watch` remembers between readings: per-second series derived from the counters of two
 * consecutive readings (503s per second, mean permit wait per target). Counters that went down
 * (a new isolate answered) count as zero rather than negative.
 */
import type { Reading } from './read.js';

export type Series = { rate503: number[]; waitMs: Map<string, number[]>; inUse: Map<string, number[]> };

export type History = { series: Series; last: Reading | undefined; push(r: Reading): void };

const served503 = (r: Reading) => r.status.refusals.byStatus['503'] ?? 0;

function append(list: number[], value: number, keep: number): void {
  list.push(value);
  if (list.length > keep) list.splice(0, list.length - keep);
}

export function createHistory(keep = 120): History {
  const series: Series = { rate503: [], waitMs: new Map(), inUse: new Map() };
  const h: History = {
    series,
    last: undefined,
    push(r) {
      const prev = h.last;
      h.last = r;
      const seconds = prev ? Math.max(0.001, (r.at - prev.at) / 1000) : 1;
      if (prev) append(series.rate503, Math.max(0, served503(r) - served503(prev)) / seconds, keep);
      for (const b of r.status.budgets) {
        const before = prev?.status.budgets.find((p) => p.target === b.target);
        const acquires = before ? b.acquiresSeen - before.acquiresSeen : 0;
        const waited = before ? b.waitedMsTotal - before.waitedMsTotal : 0;
        const waits = series.waitMs.get(b.target) ?? [];
        const inUse = series.inUse.get(b.target) ?? [];
        if (prev) append(waits, acquires > 0 && waited > 0 ? waited / acquires : 0, keep);
        append(inUse, b.inUse, keep);
        series.waitMs.set(b.target, waits);
        series.inUse.set(b.target, inUse);
      }
    },
  };
  return h;
}
