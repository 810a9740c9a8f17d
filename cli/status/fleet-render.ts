/**
 * `status --fleet` as lines of text (docs/operations.md "Fleet view"): fleet totals, the targets'
 * permits, then one line per isolate with its rates, and under it its latency per route family and
 * any telemetry drops. Every line fits `width` columns (80 by default); thresholds are painted only
 * when `colour` is on. Pure: the same view renders the same lines.
 */
import type { FleetView, IsolateView, Quantiles } from '../../drizzle/fleet-view.js';
import { paint, visible, type Level } from './colour.js';
import { fit } from './screen.js';
import { shortTarget, TARGET_WIDTH } from './target-name.js';

export type FleetRenderOptions = { colour: boolean; width?: number; source: string };

/** A rate in at most 4 characters: 0, 9.9, 999, 9.9k, 999k, 9.9M, 999M. */
export function rate(v: number): string {
  if (v === 0) return '0';
  if (v < 10) return v.toFixed(1);
  if (v < 999.5) return String(Math.round(v));
  if (v < 9950) return `${(v / 1000).toFixed(1)}k`;
  if (v < 999_500) return `${Math.round(v / 1000)}k`;
  if (v < 9_950_000) return `${(v / 1e6).toFixed(1)}M`;
  return `${Math.round(v / 1e6)}M`;
}

/** An uptime in at most 6 characters: 59s, 12m03, 3h07m, 12d03h. */
export function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

const positive = (v: number, level: Level): Level => (v > 0 ? level : 'ok');
const latencyLevel = (p99: number | null): Level => (p99 === null ? 'ok' : p99 >= 1000 ? 'bad' : p99 >= 250 ? 'warn' : 'ok');
const permitLevel = (inUse: number, size: number, waiting: number): Level =>
  waiting > 0 || (size > 0 && inUse >= size) ? 'bad' : size > 0 && inUse / size >= 0.8 ? 'warn' : 'ok';
const ms = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v)));

type Cell = { text: string; width: number; level?: Level; left?: boolean };

/** Cells padded to their widths, then painted: colour never shifts a column. */
function row(cells: readonly Cell[], colour: boolean): string {
  return cells
    .map((c) => {
      const padded = c.left ? c.text.padEnd(c.width) : c.text.padStart(c.width);
      return paint(padded, c.level ?? 'ok', colour);
    })
    .join(' ')
    .trimEnd();
}

const HEADER: Cell[] = [
  { text: 'ISOLATE', width: 8, left: true },
  { text: 'UP', width: 6 },
  { text: 'REQ/S', width: 5 },
  ...['2XX', '4XX', '5XX', '429', '503', 'BUSY', 'DOWN'].map((text) => ({ text, width: 4 })),
  { text: 'PERMITS', width: 7 },
  { text: 'WAIT', width: 4 },
  { text: 'SLOW', width: 4 },
];

type Rates = Pick<IsolateView, 'requests_per_s' | 'status_per_s' | 'busy_per_s' | 'down_per_s' | 'permits'>;

function rateCells(v: Rates): Cell[] {
  const s = v.status_per_s;
  const p = v.permits;
  return [
    { text: rate(v.requests_per_s), width: 5 },
    { text: rate(s['2xx']), width: 4 },
    { text: rate(s['4xx']), width: 4 },
    { text: rate(s['5xx']), width: 4, level: positive(s['5xx'], 'bad') },
    { text: rate(s['429']), width: 4, level: positive(s['429'], 'warn') },
    { text: rate(s['503']), width: 4, level: positive(s['503'], 'bad') },
    { text: rate(v.busy_per_s), width: 4, level: positive(v.busy_per_s, 'warn') },
    { text: rate(v.down_per_s), width: 4, level: positive(v.down_per_s, 'bad') },
    { text: `${p.in_use}/${p.size}`, width: 7, level: permitLevel(p.in_use, p.size, p.waiting) },
    { text: String(p.waiting), width: 4, level: positive(p.waiting, 'warn') },
    { text: rate(p.slow_acquires_per_s), width: 4, level: positive(p.slow_acquires_per_s, 'warn') },
  ];
}

type Item = { text: string; level: Level };

/** `fetch 3.1/12`: p50/p99 ms per family with requests in the window, busiest first. */
function latencyItems(latency: Partial<Record<string, Quantiles>>): Item[] {
  return Object.entries(latency)
    .filter((e): e is [string, Quantiles] => e[1] !== undefined)
    .sort((a, b) => b[1].requests - a[1].requests)
    .map(([family, q]) => ({ text: `${family} ${ms(q.p50)}/${ms(q.p99)}`, level: latencyLevel(q.p99) }));
}

/** `saturated 12 (1.2/s)` for every reason with drops; none without. */
function dropItems(v: Pick<IsolateView, 'telemetry_dropped' | 'telemetry_dropped_per_s'>): Item[] {
  return Object.entries(v.telemetry_dropped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => ({
      text: `${reason} ${n} (${rate(v.telemetry_dropped_per_s[reason as keyof typeof v.telemetry_dropped_per_s])}/s)`,
      level: 'bad' as const,
    }));
}

/**
 * `prefix` then the items two spaces apart, wrapped onto lines indented like the first: nothing
 * is cut. `prefixLevel` paints the prefix (the drops' `!`).
 */
function wrapped(prefix: string, items: readonly Item[], colour: boolean, width: number, prefixLevel: Level = 'ok'): string[] {
  if (items.length === 0) return [];
  const lines: string[] = [];
  let used = prefix.length;
  let line = paint(prefix, prefixLevel, colour);
  let fresh = true;
  for (const item of items) {
    if (!fresh && used + 2 + item.text.length > width) {
      lines.push(line);
      line = ' '.repeat(prefix.length);
      used = prefix.length;
      fresh = true;
    }
    line += `${fresh ? '' : '  '}${paint(item.text, item.level, colour)}`;
    used += (fresh ? 0 : 2) + item.text.length;
    fresh = false;
  }
  lines.push(line);
  return lines;
}

function targetLines(view: FleetView, colour: boolean): string[] {
  const budgets = view.totals.budgets;
  if (budgets.length === 0) return [];
  const nameWidth = TARGET_WIDTH;
  const head = row(
    [
      { text: 'TARGET', width: nameWidth, left: true },
      { text: 'PERMITS', width: 9 },
      { text: 'WAIT', width: 5 },
      { text: 'SLOW/s', width: 6 },
      { text: 'TMO/s', width: 6 },
    ],
    false,
  );
  return [
    head,
    ...budgets.map((b) =>
      row(
        [
          { text: shortTarget(b.target, nameWidth), width: nameWidth, left: true },
          { text: `${b.in_use}/${b.size}`, width: 9, level: permitLevel(b.in_use, b.size, b.waiting) },
          { text: String(b.waiting), width: 5, level: positive(b.waiting, 'warn') },
          { text: rate(b.slow_acquires_per_s), width: 6, level: positive(b.slow_acquires_per_s, 'warn') },
          { text: rate(b.timeouts_per_s), width: 6, level: positive(b.timeouts_per_s, 'bad') },
        ],
        colour,
      ),
    ),
  ];
}

/** A whole line in one colour: cut to the width first, so the reset is never cut off. */
const whole = (text: string, level: Level, colour: boolean, width: number) => paint(fit(text, width), level, colour);

const LATENCY_PREFIX = '  p50/p99 ms  ';
const DROPS_PREFIX = '  ! telemetry drops  ';

function isolateLines(i: IsolateView, colour: boolean, width: number): string[] {
  const stale = i.age_ms > 10_000;
  const id = { text: i.id.slice(0, 8), width: 8, left: true, level: stale ? ('warn' as const) : ('ok' as const) };
  const lines = [row([id, { text: uptime(i.uptime_ms), width: 6 }, ...rateCells(i)], colour)];
  lines.push(...wrapped(LATENCY_PREFIX, latencyItems(i.latency_ms), colour, width));
  lines.push(...wrapped(DROPS_PREFIX, dropItems(i), colour, width, 'bad'));
  if (stale) lines.push(whole(`  last snapshot ${uptime(i.age_ms)} ago`, 'warn', colour, width));
  return lines;
}

/** The fleet screen for `view`. */
export function renderFleet(view: FleetView, o: FleetRenderOptions): string[] {
  const width = o.width ?? 80;
  const t = view.totals;
  const lines = [`fleet  ${t.isolates} isolate${t.isolates === 1 ? '' : 's'}  at ${view.at.slice(11, 19)}  from ${o.source}`, ''];
  if (t.isolates === 0) {
    lines.push('no isolate sent a snapshot within the expiry (one comes with each counter flush)');
    return lines.map((l) => fit(l, width));
  }
  lines.push(row([{ text: 'TOTAL', width: 8, left: true }, { text: '', width: 6 }, ...rateCells(t)], o.colour));
  lines.push(...wrapped(LATENCY_PREFIX, latencyItems(t.latency_ms), o.colour, width));
  lines.push(...wrapped(DROPS_PREFIX, dropItems(t), o.colour, width, 'bad'));
  lines.push('', ...targetLines(view, o.colour), '', row(HEADER, false));
  for (const i of view.isolates) lines.push(...isolateLines(i, o.colour, width));
  // A line painted across its cut would lose its reset: cut the plain text, then it is plain.
  return lines.map((l) => (visible(l).length > width ? fit(visible(l), width) : l));
}
