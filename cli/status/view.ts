/**
 * The console's screen as lines of text: the worker's budgets, caches, refusals, batcher and
 * telemetry, then the flusher. Pure: the same reading renders the same lines. With a history
 * (`--watch`) it adds sparklines of 503s per second and of the mean permit wait per target.
 */
import { table } from '../output.js';
import type { Series } from './history.js';
import { histogramQuantile, sumOf } from './prometheus.js';
import type { Reading } from './read.js';
import { sparkline } from './sparkline.js';
import { shortTarget, TARGET_WIDTH } from './target-name.js';

export type ViewOptions = { now: number; workerUrl: string; series?: Series; sparkWidth?: number };

function duration(msTotal: number): string {
  const s = Math.floor(msTotal / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const ms = (v: number) => (v < 1000 ? `${Math.round(v)}ms` : v < 60_000 ? `${(v / 1000).toFixed(1)}s` : duration(v));
const ago = (at: number | null, now: number) => (at === null ? 'never' : `${ms(Math.max(0, now - at))} ago`);
const pct = (hits: number, misses: number) => (hits + misses === 0 ? '-' : `${((100 * hits) / (hits + misses)).toFixed(1)}%`);

function budgetLines(r: Reading, o: ViewOptions): string[] {
  const slowMs = r.status.settings.DB_ACQUIRE_SLOW_MS;
  const width = o.sparkWidth ?? 20;
  const header = ['TARGET', 'IN USE', 'WAITING', 'TIMEOUTS', 'LONGEST WAIT', slowMs ? `SLOW >${slowMs}ms` : 'SLOW'];
  if (o.series) header.push('MEAN WAIT /s');
  const rows = r.status.budgets.map((b) => {
    const row = [
      shortTarget(b.target, TARGET_WIDTH),
      `${b.inUse}/${b.size}${b.reclaiming ? ` (${b.reclaiming} ending)` : ''}`,
      String(b.waiting),
      String(b.timeouts),
      ms(b.maxWaitMs),
      String(b.slowAcquires),
    ];
    if (o.series) {
      const waits = o.series.waitMs.get(b.target) ?? [];
      row.push(`${sparkline(waits, width)} ${ms(waits.at(-1) ?? 0)}`);
    }
    return row;
  });
  if (rows.length === 0) return ['budgets    none yet (no request has used a database in this isolate)'];
  return table([header, ...rows]).split('\n');
}

/** What each target's server last said about the gateway's timeouts (set by `/__gateway/ready`). */
function serverTimeoutLines(r: Reading): string[] {
  return r.status.serverTimeouts.map(
    (t) => `timeouts   ${t.target}: statement ${t.statementTimeoutMs ?? '?'} ms, lock ${t.lockTimeoutMs ?? '?'} ms${t.inForce ? '' : ' NOT IN FORCE'}`,
  );
}

function refusalLine(r: Reading): string {
  const { total, byCode } = r.status.refusals;
  const parts = Object.entries(byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`);
  return `refusals   ${total}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** Rate-limit refusals, the busiest clients first. */
function rateLimitLine(r: Reading): string {
  const { limited, limiterUnavailable, byClient } = r.status.rateLimits;
  const top = Object.entries(byClient)
    .map(([name, f]) => [name, f.limited + f.blocked] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, n]) => `${name} ${n}`);
  const unavailable = limiterUnavailable ? `; limiter unavailable ${limiterUnavailable}` : '';
  return `rate limit ${limited} refused${top.length ? `: ${top.join(', ')}` : ''}${unavailable}`;
}

function batcherLine(r: Reading, now: number): string {
  const b = r.status.batcher;
  const oldest = b.pendingAgeMs === null ? '' : `, oldest ${ms(b.pendingAgeMs)}`;
  const failedLast = b.lastFailureAt !== null && (b.lastFlushAt === null || b.lastFailureAt > b.lastFlushAt);
  const last = failedLast
    ? `last flush FAILED ${ago(b.lastFailureAt, now)}${b.lastError ? ` (${b.lastError})` : ''}`
    : `last flush ok ${ago(b.lastFlushAt, now)}`;
  return `batcher    ${b.sink} sink: ${b.pendingKeys} pending rows${oldest}; ${last}`;
}

function flusherLine(r: Reading): string {
  const f = r.flusher;
  if (f === null) return 'flusher    not read (no --flusher-url / FLUSHER_URL)';
  if (!f.ok) return `flusher    DOWN: ${f.problem}`;
  const p99 = histogramQuantile(f.samples, 'flusher_commit_duration_seconds', 0.99);
  const groups = sumOf(f.samples, 'flusher_group_size_batches_count');
  const batches = sumOf(f.samples, 'flusher_batches_total');
  const rejected = sumOf(f.samples, 'flusher_batches_rejected_total');
  return `flusher    ${groups} groups (${batches} batches), commit p99 ${p99 === null ? '-' : ms(p99 * 1000)}, rejected ${rejected}, db errors ${sumOf(f.samples, 'flusher_db_errors_total')}`;
}

/** Key cache hit rate and the client directory (policies come from it; by-name loads only when it is incomplete). */
function cacheLine(r: Reading): string {
  const { keyCache: k, policyCache: p, auth } = r.status;
  const d = auth.directory;
  const directory = d.loaded
    ? `directory ${d.clients} clients, age ${duration(d.ageMs ?? 0)}, ${d.loads} loads${d.failures ? `, ${d.failures} failed` : ''}`
    : 'directory not loaded';
  const byName = p.hits + p.misses > 0 ? `, policies by name ${pct(p.hits, p.misses)} hit (${p.hits}/${p.hits + p.misses})` : '';
  return `caches     keys ${pct(k.hits, k.misses)} hit (${k.hits}/${k.hits + k.misses}), ${directory}${byName}`;
}

/** The screen for `reading`. */
export function renderStatus(r: Reading, o: ViewOptions): string[] {
  const s = r.status;
  const dropped = Object.values(s.telemetry.dropped).reduce((a, n) => a + n, 0);
  const lines = [
    `gateway ${o.workerUrl}  v${s.version}  isolate up ${duration(s.isolate.uptimeMs)}  at ${new Date(r.at).toISOString().slice(11, 19)}`,
    '',
    ...budgetLines(r, o),
    ...serverTimeoutLines(r),
    '',
    cacheLine(r),
    refusalLine(r),
    rateLimitLine(r),
  ];
  if (o.series) {
    const rates = o.series.rate503;
    lines.push(`503/s      ${sparkline(rates, o.sparkWidth ?? 20)} ${(rates.at(-1) ?? 0).toFixed(1)}`);
  }
  lines.push(batcherLine(r, o.now), `telemetry  accepted ${s.telemetry.accepted}, dropped ${dropped}`, flusherLine(r));
  return lines;
}
