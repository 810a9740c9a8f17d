/**
 * The fleet's series on the flusher's `/metrics` (docs/operations.md "Fleet view"): gauges computed
 * from the fleet view at scrape time. Labels are bounded: route family, status column, drop reason
 * and refusal code (at most MAX_CODES per snapshot) — never an isolate id or a target.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Fleet } from './fleet.js';

export type FleetMetrics = { snapshots: Counter };

export function registerFleetMetrics(registry: Registry, fleet: Fleet): FleetMetrics {
  const registers = [registry];
  // One view per scrape: the first gauge's collect computes it, the others read it.
  let view = fleet.view();
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void, first = false) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        if (first) view = fleet.view();
        this.reset();
        fill(this);
      },
    });
  gauge('flusher_fleet_isolates', 'Isolates that sent a snapshot within the expiry.', [], (g) => g.set(view.totals.isolates), true);
  gauge(
    'flusher_fleet_requests_per_second',
    'Requests per second over the fleet, by status column (2xx…5xx; 429 and 503 also on their own).',
    ['status'],
    (g) => {
      for (const [status, v] of Object.entries(view.totals.status_per_s)) g.set({ status }, v);
    },
  );
  gauge('flusher_fleet_latency_ms', "Latency quantiles over the fleet, by route family (from the isolates' histograms).", ['family', 'quantile'], (g) => {
    for (const [family, q] of Object.entries(view.totals.latency_ms)) {
      if (q.p50 !== null) g.set({ family, quantile: '0.5' }, q.p50);
      if (q.p99 !== null) g.set({ family, quantile: '0.99' }, q.p99);
    }
  });
  gauge('flusher_fleet_refusals_per_second', 'Refusals per second over the fleet, by error code.', ['code'], (g) => {
    for (const [code, v] of Object.entries(view.totals.refusals_per_s)) g.set({ code }, v);
  });
  gauge('flusher_fleet_permits', 'Database permits over the fleet: in use, size, waiting.', ['state'], (g) => {
    g.set({ state: 'in_use' }, view.totals.permits.in_use);
    g.set({ state: 'size' }, view.totals.permits.size);
    g.set({ state: 'waiting' }, view.totals.permits.waiting);
  });
  gauge('flusher_fleet_slow_acquires_per_second', 'Permit acquires slower than DB_ACQUIRE_SLOW_MS per second over the fleet.', [], (g) =>
    g.set(view.totals.permits.slow_acquires_per_s),
  );
  gauge('flusher_fleet_permit_timeouts_per_second', 'Permit waits that ended without a permit, per second over the fleet.', [], (g) =>
    g.set(view.totals.permits.timeouts_per_s),
  );
  gauge('flusher_fleet_telemetry_dropped_per_second', 'Telemetry events dropped per second over the fleet, by reason.', ['reason'], (g) => {
    for (const [reason, v] of Object.entries(view.totals.telemetry_dropped_per_s)) g.set({ reason }, v);
  });
  return { snapshots: new Counter({ name: 'flusher_fleet_snapshots_total', help: 'Isolate snapshots received with batches.', registers }) };
}
