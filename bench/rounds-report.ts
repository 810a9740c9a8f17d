/**
 * Markdown for the round runs (bench/rounds.ts) and the scaling curves: the alternating
 * scenario 1 / 2 rounds with their ratio, scenario 2 at 16/64/256 connections, and the flusher's
 * deltas/s by posters, each curve also drawn as a text bar chart.
 */
import { productFlusherLevels } from './flusher-scenario.js';
import type { RoundsFigures } from './rounds.js';
import type { ScenarioResult } from './scenarios.js';

const f = (n: number | undefined, d = 0): string =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const WIDTH = 40;

/** One line per point: label, a bar proportional to the value, the value and a note. */
function barChart(points: { label: string; value: number; note: string }[]): string[] {
  const max = Math.max(1, ...points.map((p) => p.value));
  const pad = Math.max(...points.map((p) => p.label.length));
  return [
    '```',
    ...points.map((p) => `${p.label.padStart(pad)} ${'█'.repeat(Math.max(1, Math.round((p.value / max) * WIDTH))).padEnd(WIDTH)} ${f(p.value)} ${p.note}`),
    '```',
  ];
}

/** A round-by-round table (`what` names the label column) and the ratio over the pairs, described by `ratioText`. */
function roundsTable(heading: string, what: string, x: RoundsFigures, ratioText: (ratio: NonNullable<RoundsFigures['ratio']>) => string): string[] {
  const lines = [heading, '', `| round | ${what} | req/s | p50 ms | p99 ms | non-2xx | worker CPU µs/req |`, '|---|---|---|---|---|---|---|'];
  x.rounds.forEach((q, i) => {
    lines.push(`| ${i + 1} | ${q.label} | ${f(q.requestsPerSecond)} | ${f(q.p50Ms, 1)} | ${f(q.p99Ms, 1)} | ${q.non2xx} | ${f(q.cpuUsPerRequest)} |`);
  });
  if (x.ratio) lines.push('', ratioText(x.ratio));
  return [...lines, ''];
}

function alternating(r: ScenarioResult): string[] {
  const x = r.rounds;
  if (!x) return [];
  return roundsTable(
    `## Scenario 2 / scenario 1 in alternating rounds (${x.rounds.length} rounds of ${f(x.roundMs)} ms, one workerd)`,
    'scenario',
    x,
    (q) =>
      `Ratio 2 / 1, median over ${q.pairs} pairs (odd pairs reversed, after an unmeasured warm-up round of each): **${f(q.byRequestsPerSecond, 3)}×** by req/s, **${f(q.byCpu, 3)}×** by worker CPU per request (CPU of 1 / CPU of 2).`,
  );
}

/** Scenario 2 on a baseline bundle and on this tree in alternating rounds (`--baseline`). */
function bundleAb(r: ScenarioResult): string[] {
  const x = r.rounds;
  if (!x) return [];
  return roundsTable(
    `## ${r.title} (${x.rounds.length} rounds of ${f(x.roundMs)} ms, one workerd each)`,
    'bundle',
    x,
    (q) =>
      `This tree / baseline, median over ${q.pairs} pairs (odd pairs reversed, after a warm-up round on each): **${f(q.byRequestsPerSecond, 3)}×** by req/s, **${f(q.byCpu, 3)}×** by worker CPU per request (CPU of baseline / CPU of this tree; above 1 = this tree is cheaper).`,
  );
}

function curve(r: ScenarioResult): string[] {
  const x = r.rounds;
  if (!x) return [];
  return [
    `## Scaling curve: scenario 2 by connections (${f(x.roundMs)} ms each, one workerd)`,
    '',
    ...barChart(
      x.rounds.map((q) => ({
        label: `${q.connections} conns`,
        value: q.requestsPerSecond,
        note: `req/s, p50 ${f(q.p50Ms, 1)} ms, p99 ${f(q.p99Ms, 1)} ms, ${f(q.cpuUsPerRequest)} µs CPU/req, non-2xx ${q.non2xx}`,
      })),
    ),
    '',
  ];
}

function flusherCurve(scenarios: readonly ScenarioResult[]): string[] {
  const lines: string[] = [];
  for (const clients of ['200', '20']) {
    const levels = productFlusherLevels(scenarios, clients).sort((a, b) => a.connections - b.connections);
    if (levels.length < 2) continue;
    lines.push(`## Scaling curve: flusher deltas/s by posters (${clients} clients)`, '');
    lines.push(
      ...barChart(
        levels.map((r) => ({
          label: `${r.connections} posters`,
          value: r.flusher?.deltasPerSecond ?? 0,
          note: `deltas/s, ack p99 ${f(r.flusher?.ackP99Ms, 1)} ms`,
        })),
      ),
      '',
    );
  }
  return lines;
}

/** Every round and curve section of a run (empty when none ran). */
export function renderRounds(scenarios: readonly ScenarioResult[]): string[] {
  const byId = (id: string) => scenarios.find((r) => r.id === id && !r.skipped);
  const a = byId('1v2');
  const c = byId('2-curve');
  const ab = byId('2-ab');
  return [...(a ? alternating(a) : []), ...(ab ? bundleAb(ab) : []), ...(c ? curve(c) : []), ...flusherCurve(scenarios)];
}
