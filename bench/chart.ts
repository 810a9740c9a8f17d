/**
 * The run's chart as a self-contained SVG (no dependency): top, requests/s per scenario with p99
 * latency beside it; bottom, 503 responses per second during scenario 5, one line per stats sink.
 */
import type { ScenarioResult } from './scenarios.js';

const W = 960;
const r1 = (n: number) => Math.round(n * 10) / 10;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS: Record<string, string> = { per_request: '#d62728', flusher: '#2ca02c', direct: '#1f77b4' };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

/** Renders the chart for `results` (skipped scenarios are left out). */
export function renderChart(results: ScenarioResult[], title: string): string {
  const bars = results.filter((r) => r.load && !r.skipped);
  const parts: string[] = [];
  const top = 60;
  const barH = 220;
  const left = 70;
  const plotW = W - left - 80;
  const maxRps = niceMax(Math.max(...bars.map((r) => r.load?.requestsPerSecond ?? 0), 1));
  // p99 spans 1 ms to seconds across scenarios: log scale, decades up to the largest.
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...bars.map((r) => r.load?.latencyMs.p99 ?? 0)))));
  const p99Y = (ms: number) => r1(top + barH - (barH * Math.log10(Math.max(1, ms))) / decades);
  const slot = plotW / Math.max(1, bars.length);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  parts.push(
    `<text x="${left}" y="${top - 12}" font-size="12">requests/s (bars, left axis; scenario 6: batches/s of 500 deltas) and p99 latency ms (dots, right axis, log scale)</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = top + barH - (barH * i) / 4;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${Math.round((maxRps * i) / 4)}</text>`);
  }
  for (let d = 0; d <= decades; d++) parts.push(`<text x="${left + plotW + 6}" y="${p99Y(10 ** d) + 4}" font-size="10" fill="#ff7f0e">${10 ** d}</text>`);
  bars.forEach((r, i) => {
    const rps = r.load?.requestsPerSecond ?? 0;
    const p99 = r.load?.latencyMs.p99 ?? 0;
    const h = r1((barH * rps) / maxRps);
    const x = r1(left + i * slot + slot * 0.15);
    const sink = r.vars.STATS_SINK ?? '';
    const color = r.group === 1 ? '#7f7f7f' : r.group === 6 ? '#9467bd' : (COLORS[sink] ?? '#1f77b4');
    parts.push(
      `<rect x="${x}" y="${r1(top + barH - h)}" width="${r1(slot * 0.7)}" height="${h}" fill="${color}"><title>${esc(`${r.id} ${r.title}: ${Math.round(rps)} req/s, p99 ${p99} ms`)}</title></rect>`,
    );
    const cx = r1(x + slot * 0.35);
    parts.push(`<text x="${cx}" y="${r1(top + barH - h - 4)}" text-anchor="middle" font-size="10">${Math.round(rps)}</text>`);
    parts.push(`<circle cx="${cx}" cy="${p99Y(p99)}" r="4" fill="#ff7f0e"><title>p99 ${p99} ms</title></circle>`);
    // Alternate label rows so long ids (5-per_request) never overlap their neighbours.
    parts.push(`<text x="${cx}" y="${top + barH + 14 + (i % 2) * 12}" text-anchor="middle" font-size="10">${esc(r.id)}</text>`);
  });

  // 503s over time, scenario 5.
  const t0 = top + barH + 70;
  const lineH = 200;
  const series = results.filter((r) => r.group === 5 && r.load);
  const maxSec = Math.max(1, ...series.flatMap((r) => r.load?.timeline.map((s) => s.second) ?? [0]));
  const max503 = niceMax(Math.max(1, ...series.flatMap((r) => r.load?.timeline.map((s) => s.byStatus['503'] ?? 0) ?? [0])));
  parts.push(
    `<text x="${left}" y="${t0 - 12}" font-size="12">scenario 5: 503 responses per second (${series.map((r) => r.vars.STATS_SINK).join(' vs ')})</text>`,
  );
  for (let i = 0; i <= 4; i++) {
    const y = t0 + lineH - (lineH * i) / 4;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${Math.round((max503 * i) / 4)}</text>`);
  }
  for (let s = 0; s <= maxSec; s += Math.max(1, Math.ceil(maxSec / 10))) {
    parts.push(`<text x="${r1(left + (plotW * s) / maxSec)}" y="${t0 + lineH + 14}" text-anchor="middle" font-size="10">${s}s</text>`);
  }
  series.forEach((r, i) => {
    const sink = r.vars.STATS_SINK ?? '';
    const pts = (r.load?.timeline ?? []).map(
      (s) => `${r1(left + (plotW * s.second) / maxSec)},${r1(t0 + lineH - (lineH * (s.byStatus['503'] ?? 0)) / max503)}`,
    );
    parts.push(`<polyline fill="none" stroke="${COLORS[sink] ?? '#000'}" stroke-width="2" points="${pts.join(' ')}"/>`);
    parts.push(
      `<text x="${left + plotW - 120}" y="${t0 + 14 + i * 14}" font-size="11" fill="${COLORS[sink] ?? '#000'}">${esc(`${sink}: ${r.load?.byStatus['503'] ?? 0} × 503`)}</text>`,
    );
  });
  const H = t0 + lineH + 40;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
