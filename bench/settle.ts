/**
 * After a gateway load: the admin calls the bench makes on a workerd, and the final flush forced
 * on every isolate until the hot client's counters in the database reach what was served.
 */
import type { CounterSums } from './db-probes.js';
import { sleep } from '../dev/process-group.js';
import { HOT_CLIENT } from './seed.js';
import type { Ctx } from './scenarios.js';
import type { Workerd } from './workerd.js';

export type CounterCheck = {
  /** Responses that the gateway counts: authenticated requests, i.e. the 2xx here (data routes: every response). */
  expectedRequests: number;
  db: CounterSums;
  exact: boolean;
  settleMs: number;
  /** Flushes the worker reports (batches sent; per_request: writes done). */
  flushes: number | null;
  flushFailures: number | null;
  droppedRows: number | null;
};

export async function admin(w: Workerd, ctx: Ctx, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const res = await fetch(`${w.url}${path}`, { method, headers: { authorization: `Bearer ${ctx.adminToken}` } });
  return res.ok ? res.json() : { status: res.status, body: await res.text() };
}

type StatsView = { flushes?: number; failures?: number; dropped?: number };
const statsOfReport = (r: unknown): StatsView => (r && typeof r === 'object' && 'stats' in r ? ((r as { stats: StatsView }).stats ?? {}) : {});

/**
 * Forces the final flush (POST /__gateway/flush to every workerd, one isolate each) until the hot
 * client's DB counters reach the served count, or stop changing (per_request writes that timed
 * out are lost — that is a result, not a harness error). `flushes` sums the isolates' flushes.
 * `errorsCounted`: every response is an authenticated request the gateway counts (its non-2xx as errors).
 */
export async function settleCounters(
  ctx: Ctx,
  ws: readonly Workerd[],
  byStatus: Record<string, number>,
  capMs: number,
  opts: { errorsCounted?: boolean } = {},
): Promise<CounterCheck> {
  const ok = Object.entries(byStatus).reduce((n, [status, count]) => (status.startsWith('2') ? n + count : n), 0);
  const all = Object.values(byStatus).reduce((n, count) => n + count, 0);
  // Data routes count every authenticated request, a refused session (503) as an error.
  const expected = opts.errorsCounted ? all : ok;
  const expectedErrors = opts.errorsCounted ? all - ok : 0;
  const started = Date.now();
  let last = -1;
  let stableSince = Date.now();
  let views: StatsView[] = [];
  let db: CounterSums = { requests: 0, errors: 0, tableRequests: 0, rows: 0 };
  while (Date.now() - started < capMs) {
    views = await Promise.all(ws.map(async (w) => statsOfReport(await admin(w, ctx, 'POST', '/__gateway/flush'))));
    db = await ctx.catalog.sums(HOT_CLIENT);
    if (db.requests >= expected) break;
    if (db.requests !== last) {
      last = db.requests;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 2_000) break;
    await sleep(250);
  }
  const total = (k: keyof StatsView): number | null => (views.some((v) => v[k] === undefined) ? null : views.reduce((n, v) => n + (v[k] ?? 0), 0));
  return {
    expectedRequests: expected,
    db,
    exact: db.requests === expected && db.errors === expectedErrors,
    settleMs: Date.now() - started,
    flushes: total('flushes'),
    flushFailures: total('failures'),
    droppedRows: total('dropped'),
  };
}

export function trimStatus(status: unknown): unknown {
  if (!status || typeof status !== 'object') return status;
  const { settings: _settings, ...rest } = status as Record<string, unknown>;
  return rest;
}
