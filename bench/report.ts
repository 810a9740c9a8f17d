/**
 * The run's markdown summary: machine, one table of every scenario, the flusher levels, the
 * targets with their gaps, and the CPU split that says what limited each number.
 */
import { PRODUCT_FILLFACTOR } from './flusher-scenario.js';
import { renderForgery } from './forged-flood.js';
import { renderHostileText } from './hostile-text-scenario.js';
import { renderRateLimit } from './rate-limit-scenario.js';
import { renderRevocation } from './revocation-scenario.js';
import type { ProfileSummary } from './profile.js';
import type { RuntimeCheck } from './runtime-check.js';
import { renderDistance } from './distance-report.js';
import { renderTransport } from './transport-report.js';
import { renderManyIsolates } from './isolates-report.js';
import { renderRounds } from './rounds-report.js';
import { renderDataPath } from './data-path-report.js';
import type { ScenarioResult } from './scenarios.js';
import type { Target } from './targets.js';

export type Machine = {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  workerd: string;
  loadAvgBefore: number[];
  loadAvgAfter: number[];
};

export type RunReport = {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: Machine;
  /** Why the numbers may be noisy (e.g. other work on the machine during the run). */
  caveats: string[];
  runtime: { used: 'workerd serve'; check?: RuntimeCheck };
  /** V8 CPU profiles of the worker for scenarios 1 and 2 (separate, inspector-attached runs). */
  profiles: ProfileSummary[];
  scenarios: ScenarioResult[];
  targets: Target[];
};

const f = (n: number | undefined, d = 0) => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

function codes503(r: ScenarioResult): string {
  const entries = Object.entries(r.load?.byErrorCode ?? {}).filter(([k]) => k.startsWith('503:'));
  return entries.length ? entries.map(([k, v]) => `${k.slice(4)} ${f(v)}`).join(', ') : '0';
}

function otherStatuses(r: ScenarioResult): string {
  const rest = Object.entries(r.load?.byStatus ?? {}).filter(([s]) => !s.startsWith('2') && s !== '503');
  const stalled = r.load?.secondsWithoutResponses ? [`no response for ${r.load.secondsWithoutResponses} s`] : [];
  return [...rest.map(([s, n]) => `${s}×${n}`), ...stalled].join(' ');
}

function counterCell(r: ScenarioResult): string {
  const c = r.counters;
  if (!c) return r.flusher ? `${r.flusher.exact ? 'exact' : 'MISMATCH'} (${f(r.flusher.dbDeltas)}/${f(r.flusher.deltasAcked)})` : 'n/a';
  const failed = c.flushFailures ? `; ${f(c.flushFailures)} writes failed` : '';
  return `${c.exact ? 'exact' : 'MISMATCH'} (${f(c.db.requests)}/${f(c.expectedRequests)}${failed})`;
}

function lockCell(r: ScenarioResult): string {
  const l = r.locks;
  if (!l) return '–';
  return `${l.samplesWithLockWait}/${l.samples} (max ${l.maxLockWaiters})`;
}

function stmtCell(r: ScenarioResult): string {
  const s = r.statements;
  if (!s) return '–';
  return `${f(s.total)} (cs ${f(s.clientStatistics)}, cts ${f(s.clientTableStatistics)}, keys ${f(s.apiKeysLastUsed)}, auth ${f(s.authLookups)})`;
}

/** Worker (or flusher) CPU per measured request: a throughput-independent cost, useful on a busy machine. */
export function cpuPerRequestUs(r: ScenarioResult): number | undefined {
  const cpu = r.cpu?.cpuSeconds ?? {};
  // Several flusher replicas (flusher, flusher-2, …) add up to the service's cost.
  const flushers = Object.entries(cpu).filter(([k]) => k === 'flusher' || k.startsWith('flusher-'));
  const server = cpu.workerd ?? (flushers.length ? flushers.reduce((n, [, v]) => n + v, 0) : undefined);
  const n = r.load?.completed ?? 0;
  return server === undefined || n === 0 ? undefined : Math.round((server / n) * 1e6);
}

function cpuCell(r: ScenarioResult): string {
  if (!r.cpu) return '–';
  return Object.entries(r.cpu.cores)
    .concat(
      r.cpu.cpuSeconds['load-generator'] !== undefined && r.cpu.wallSeconds > 0
        ? [['load-generator', Math.round((r.cpu.cpuSeconds['load-generator'] / r.cpu.wallSeconds) * 100) / 100]]
        : [],
    )
    .filter(([, v]) => v >= 0.05)
    .map(([k, v]) => `${k} ${f(v, 2)}`)
    .join(', ');
}

/** The markdown summary of a run. */
export function renderMarkdown(run: RunReport, chartFile: string): string {
  const m = run.machine;
  const lines: string[] = [];
  lines.push(`# Bench run ${run.startedAt} (${run.mode})`, '');
  lines.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${f(m.memoryGb, 1)} GB, ${m.os}; Node ${m.node}; ${m.workerd}. Load average before/after: ${m.loadAvgBefore.map((x) => x.toFixed(2)).join(' ')} / ${m.loadAvgAfter.map((x) => x.toFixed(2)).join(' ')}.`,
    '',
  );
  for (const c of run.caveats) lines.push(`> ${c}`, '');
  if (run.runtime.check) {
    const c = run.runtime.check;
    lines.push(
      `Runtime: bare \`/health\` under \`workerd serve\` ${f(c.workerdServe.requestsPerSecond)} req/s (p99 ${f(c.workerdServe.latencyMs.p99, 1)} ms) vs Miniflare's server ${f(c.miniflare.requestsPerSecond)} req/s (p99 ${f(c.miniflare.latencyMs.p99, 1)} ms); scenarios use **${run.runtime.used}**.`,
      '',
    );
  } else lines.push(`Runtime: **${run.runtime.used}** (bundle from \`wrangler deploy --dry-run\`).`, '');
  lines.push(`![throughput, p99 and 503s](${chartFile})`, '');
  lines.push(
    '| # | scenario | conns | req/s | p50 ms | p95 ms | p99 ms | 503 by code | other non-2xx, stalls | DB statements | lock-wait samples | counters (DB/served 2xx) | server CPU µs/req | CPU cores busy |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of run.scenarios) {
    if (r.rounds || r.dataPath || r.group === 14) continue; // rendered by renderRounds, renderDataPath, renderTransport
    if (r.skipped) {
      lines.push(`| ${r.id} | ${r.title} | ${r.connections} | skipped: ${r.skipped} | | | | | | | | | | |`);
      continue;
    }
    const l = r.load;
    const rate = r.flusher ? `${f(l?.requestsPerSecond)} batches/s = ${f(r.flusher.deltasPerSecond)} deltas/s` : f(l?.requestsPerSecond);
    lines.push(
      `| ${r.id} | ${r.title} | ${r.connections} | ${rate} | ${f(l?.latencyMs.p50, 1)} | ${f(l?.latencyMs.p95, 1)} | ${f(l?.latencyMs.p99, 1)} | ${codes503(r)} | ${otherStatuses(r)} | ${stmtCell(r)} | ${lockCell(r)} | ${counterCell(r)} | ${f(cpuPerRequestUs(r))} | ${cpuCell(r)} |`,
    );
  }
  lines.push(
    '',
    'DB statements: all statements in the catalog DB during the scenario (pg_stat_statements), split into counter writes per table (cs = client_statistics, cts = client_table_statistics, keys = api_keys last-used) and auth lookups. Lock-wait samples: pg_stat_activity samples (every 100 ms) with at least one backend waiting on a lock. Server CPU µs/req: CPU of workerd (scenario 6: the flusher) per measured response, which depends far less than req/s on what else the machine runs.',
    '',
  );
  lines.push(...renderForgery(run.scenarios));
  lines.push(...renderRateLimit(run.scenarios));
  lines.push(...renderRevocation(run.scenarios));
  lines.push(...renderHostileText(run.scenarios));
  if (run.profiles.length) {
    lines.push('## CPU profiles (self time; separate profiled runs, slower than the measured ones)', '');
    for (const p of run.profiles) {
      lines.push(
        `- \`${p.request}\` at ${f(p.load.requestsPerSecond)} req/s while profiled, idle ${f(p.idlePercent, 1)}%: ${p.top
          .slice(0, 8)
          .map((h) => `${h.name} ${f(h.selfPercent, 1)}%`)
          .join('; ')}`,
      );
      if (p.inclusive?.length)
        lines.push(
          `  - total time in our code: ${p.inclusive
            .slice(0, 10)
            .map((h) => `${h.name} ${f(h.selfPercent, 1)}%`)
            .join('; ')}`,
        );
    }
    lines.push('');
  }
  lines.push(...renderRounds(run.scenarios));
  lines.push(...renderDataPath(run.scenarios, run.profiles));
  lines.push(...renderManyIsolates(run.scenarios));
  lines.push(...renderDistance(run.scenarios));
  lines.push(...renderTransport(run.scenarios));
  lines.push(...replicaComparison(run.scenarios));
  lines.push(...fillfactorComparison(run.scenarios));
  lines.push('## Targets', '', '| target | measured | status | gap |', '|---|---|---|---|');
  for (const t of run.targets) lines.push(`| ${t.target} | ${t.actual} | **${t.status}** | ${t.gap ?? ''} |`);
  lines.push('');
  return lines.join('\n');
}

const fillfactorOf = (r: ScenarioResult): string => r.vars.fillfactor ?? String(PRODUCT_FILLFACTOR);
const isPlain = (r: ScenarioResult): boolean => (r.flusher?.replicas ?? 1) === 1 && fillfactorOf(r) === String(PRODUCT_FILLFACTOR);

/** Each twin run beside the plain run (1 replica, default fillfactor) at the same posters and clients. */
function twinTable(
  scenarios: readonly ScenarioResult[],
  isTwin: (r: ScenarioResult) => boolean,
  heading: string,
  column: string,
  label: (r: ScenarioResult) => string,
): string[] {
  const runs = scenarios.filter((r) => r.group === 6 && r.flusher);
  const pairs = runs
    .filter(isTwin)
    .map((twin) => ({ twin, plain: runs.find((r) => isPlain(r) && r.connections === twin.connections && r.vars.clients === twin.vars.clients) }));
  if (pairs.length === 0) return [];
  const lines = [
    heading,
    '',
    `| posters | clients | plain deltas/s | ack p99 ms | ${column} | deltas/s | ack p99 ms | throughput change | exact |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { twin, plain } of pairs) {
    const m = twin.flusher;
    const s = plain?.flusher;
    const change =
      s && m && s.deltasPerSecond > 0
        ? `${m.deltasPerSecond >= s.deltasPerSecond ? '+' : ''}${f(((m.deltasPerSecond - s.deltasPerSecond) / s.deltasPerSecond) * 100, 0)}%`
        : '–';
    lines.push(
      `| ${twin.connections} | ${twin.vars.clients} | ${f(s?.deltasPerSecond)} | ${f(s?.ackP99Ms, 1)} | ${label(twin)} | ${f(m?.deltasPerSecond)} | ${f(m?.ackP99Ms, 1)} | ${change} | ${m?.exact ? 'yes' : 'NO'} |`,
    );
  }
  return lines;
}

/** Flusher replicas: each 2-replica run beside the 1-replica run at the same posters and clients. */
export function replicaComparison(scenarios: readonly ScenarioResult[]): string[] {
  const lines = twinTable(
    scenarios,
    (r) => (r.flusher?.replicas ?? 1) > 1,
    '## Flusher replicas (same posters, split evenly over the replicas)',
    'replicas',
    (r) => String(r.flusher?.replicas),
  );
  if (lines.length) lines.push('', 'Ack p99 with several replicas is the worst of the per-replica load generators (a bound, not a merged percentile).', '');
  return lines;
}

/** The counter tables at fillfactor 100 (no room for HOT updates), beside the product's 50, at the same posters. */
function fillfactorComparison(scenarios: readonly ScenarioResult[]): string[] {
  const lines = twinTable(
    scenarios,
    (r) => fillfactorOf(r) !== String(PRODUCT_FILLFACTOR),
    `## Flusher with the counter tables at fillfactor 100 instead of the product's ${PRODUCT_FILLFACTOR} (bench-only ALTER TABLE)`,
    'fillfactor',
    fillfactorOf,
  );
  if (lines.length) lines.push('', 'Each fillfactor-100 run follows its plain run directly; migration 0005 sets the counter tables to fillfactor 50.', '');
  return lines;
}
