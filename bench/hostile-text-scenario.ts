/**
 * Scenario 13: what SQL text costs the isolate. Parse cost: each worst shape at the caps
 * (bench/hostile-texts.ts) is translated (pre-scan, parse, translate) `PARSES` times inside one
 * request of a probe worker (bench/parse-probe-worker) under `workerd serve`; workerd's CPU from
 * /proc over that request, divided by `PARSES`, is the cost of one (other work on the machine
 * inflates latency far more than CPU). Then the gateway's bundle: the hot client gets a key that
 * may read only `bench_parse_allowed` and an rpc-only key; the texts name another table, so an
 * accepted text is parsed in full and then refused with 403 before any database work. Each text is
 * sent alone (status, latency), then `GET /health` runs alone, then again while 4 clients send the
 * costliest shape back to back. Reported: CPU per parse, statuses and latencies, `/health` p99
 * alone and beside the hostile load, and their ratio.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../dev/ports.js';
import { cpuSnapshot, TICKS_PER_SECOND } from './cpu.js';
import { hashApiKey, mintApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import { textsAtCaps, textsBeyondCaps, type HostileText } from './hostile-texts.js';
import { runLoad } from './load.js';
import type { HttpRequestSpec, LoadSpec } from './load-spec.js';
import { HOT_CLIENT } from './seed.js';
import { PARAMS, workerVars, type Ctx, type ScenarioResult } from './scenarios.js';
import { bundleWorker, startWorkerd, type Bundle, type Workerd } from './workerd.js';
import { median } from './percentile.js';

const CLIENTS = 4;
const REPS = { quick: 2, full: 20 } as const;
/** Translations per probe request: enough CPU that /proc's 10 ms ticks are a few percent of it. */
const PARSES = { quick: 10, full: 200 } as const;
const TARGET = { table: 'bench_parse_probe', int: 'id', text: 'title' };

/** One text: CPU per translation in the probe worker and how it ended; the gateway's answer to it, `reps` times in a row. */
export type ShapeTiming = { name: string; chars: number; outcome: string; parseCpuMs: number; status: number; minMs: number; medianMs: number };

export type HostileTextFigures = {
  parses: number;
  trivialCpuMs: number;
  atCaps: ShapeTiming[];
  /** Refused by the pre-scan (read key: 400) or before it (rpc-only key: 403). */
  beyondCaps: ShapeTiming[];
  rpcOnly: ShapeTiming[];
  reps: number;
  loadText: string;
  healthAlone: { p50Ms: number; p99Ms: number; requestsPerSecond: number };
  healthUnderLoad: { p50Ms: number; p99Ms: number; requestsPerSecond: number };
  hostile: { requestsPerSecond: number; byStatus: Record<string, number> };
  p99Ratio: number;
};

/** A key of the hot client with these scopes (replacing one of the same name). */
async function seedKey(ctx: Ctx, name: string, scopes: object): Promise<string> {
  const db = new pg.Client({ connectionString: ctx.stack.catalogUrl });
  await db.connect();
  try {
    const { key, prefix } = await mintApiKey(await signerFor([ctx.keySigningSecret]));
    await db.query('DELETE FROM api_keys WHERE client_name = $1 AND name = $2', [HOT_CLIENT, name]);
    await db.query('INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5::jsonb)', [
      HOT_CLIENT,
      name,
      prefix,
      await hashApiKey(key),
      JSON.stringify(scopes),
    ]);
    return key;
  } finally {
    await db.end();
  }
}

const queryRequest = (key: string, sql: string): HttpRequestSpec => ({
  method: 'POST',
  path: '/gateway/query',
  headers: { 'content-type': 'application/json', 'x-athena-client': HOT_CLIENT, apikey: key },
  body: JSON.stringify({ query: sql }),
});

const round = (n: number) => Math.round(n * 100) / 100;

/** Sends `text` to the gateway `reps` times, one after another: the last status and the latencies. */
async function answer(w: Workerd, key: string, text: HostileText, reps: number): Promise<Pick<ShapeTiming, 'status' | 'minMs' | 'medianMs'>> {
  const req = queryRequest(key, text.sql);
  const ms: number[] = [];
  let status = 0;
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    const res = await fetch(`${w.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body });
    await res.arrayBuffer();
    ms.push(performance.now() - started);
    status = res.status;
  }
  return { status, minMs: round(Math.min(...ms)), medianMs: round(median(ms)) };
}

/** Workerd CPU (ms) for one translation of `sql` in the probe worker, and how it ended. */
async function parseCpu(probe: Workerd, sql: string, parses: number): Promise<{ cpuMs: number; outcome: string }> {
  const call = async (times: number) => {
    const res = await fetch(probe.url, { method: 'POST', body: JSON.stringify({ sql, times }) });
    return ((await res.json()) as { outcome: string }).outcome;
  };
  await call(3); // compiled and warm before it is measured
  const before = cpuSnapshot({ workerd: probe.child.pid });
  const outcome = await call(parses);
  const after = cpuSnapshot({ workerd: probe.child.pid });
  return { cpuMs: round((((after.ticks.workerd ?? 0) - (before.ticks.workerd ?? 0)) * 1000) / TICKS_PER_SECOND / parses), outcome };
}

/** The probe worker's bundle, served on the gateway's runtime settings. */
async function startProbe(gateway: Bundle): Promise<Workerd> {
  const b = await bundleWorker(mkdtempSync(join(tmpdir(), 'bench-parse-probe-')), undefined, 'bench/parse-probe-worker/wrangler.toml');
  return startWorkerd(
    { ...b, compatibilityDate: gateway.compatibilityDate, compatibilityFlags: gateway.compatibilityFlags },
    await freePort(),
    {},
    'workerd-13-probe',
  );
}

export async function runHostileTextScenario(ctx: Ctx): Promise<ScenarioResult> {
  const p = PARAMS[ctx.mode];
  const base: ScenarioResult = {
    id: '13',
    group: 13,
    title: `/health while ${CLIENTS} clients send worst-case SQL texts`,
    request: 'GET /health',
    connections: CLIENTS,
    durationMs: p.durationMs,
    vars: {},
  };
  const reps = REPS[ctx.mode];
  const parses = PARSES[ctx.mode];
  const at = textsAtCaps(TARGET);
  const beyond = textsBeyondCaps(TARGET);
  const trivialText = { name: 'trivial', sql: `SELECT id FROM ${TARGET.table} WHERE id = 1` };
  const cpu = new Map<string, { cpuMs: number; outcome: string }>();
  const probe = await startProbe(ctx.bundle);
  try {
    for (const t of [trivialText, ...at, ...beyond]) cpu.set(t.name, await parseCpu(probe, t.sql, parses));
  } finally {
    await probe.stop();
  }
  const narrowKey = await seedKey(ctx, 'parse-narrow', { operations: ['read'], tables: ['bench_parse_allowed'] });
  const rpcKey = await seedKey(ctx, 'parse-rpc', { operations: ['rpc'], tables: [], functions: ['public.bench_fn'] });
  const vars = workerVars(ctx, { id: '13', group: 13, title: '', sink: 'direct', request: queryRequest(narrowKey, ''), connections: CLIENTS, counted: false });
  const w = await startWorkerd(ctx.bundle, await freePort(), vars, 'workerd-13');
  try {
    await answer(w, narrowKey, trivialText, 5); // warm the key cache and the parser
    const timed = (key: string, texts: HostileText[], suffix = '') =>
      texts.reduce<Promise<ShapeTiming[]>>(async (acc, t) => {
        const c = cpu.get(t.name) ?? { cpuMs: 0, outcome: 'none' };
        return [
          ...(await acc),
          { name: `${t.name}${suffix}`, chars: t.sql.length, outcome: c.outcome, parseCpuMs: c.cpuMs, ...(await answer(w, key, t, reps)) },
        ];
      }, Promise.resolve([]));
    const atCaps = await timed(narrowKey, at);
    const beyondCaps = await timed(narrowKey, beyond, ' (read key)');
    const rpcOnly = await timed(rpcKey, beyond, ' (rpc-only key)');
    const unexpected = [
      ...atCaps.filter((s) => s.status !== 403 || s.outcome !== 'ok'),
      ...beyondCaps.filter((s) => s.status !== 400),
      ...rpcOnly.filter((s) => s.status !== 403),
    ];
    if (unexpected.length) return { ...base, skipped: `unexpected answers: ${unexpected.map((s) => `${s.name} ${s.status} ${s.outcome}`).join(', ')}` };

    const costliest = [...atCaps].sort((a, b) => b.parseCpuMs - a.parseCpuMs)[0];
    const loadText = at.find((t) => t.name === costliest?.name) ?? trivialText;
    const health: LoadSpec = {
      baseUrl: w.url,
      connections: CLIENTS,
      durationMs: p.durationMs,
      request: { method: 'GET', path: '/health' },
      tail: { method: 'GET', path: '/health' },
      drainCapMs: 5_000,
      timeoutSec: 10,
    };
    const alone = await runLoad(health);
    const [under, hostile] = await Promise.all([runLoad(health), runLoad({ ...health, request: queryRequest(narrowKey, loadText.sql) })]);
    const figures: HostileTextFigures = {
      parses,
      trivialCpuMs: cpu.get('trivial')?.cpuMs ?? 0,
      atCaps,
      beyondCaps,
      rpcOnly,
      reps,
      loadText: loadText.name,
      healthAlone: { p50Ms: alone.latencyMs.p50, p99Ms: alone.latencyMs.p99, requestsPerSecond: round(alone.requestsPerSecond) },
      healthUnderLoad: { p50Ms: under.latencyMs.p50, p99Ms: under.latencyMs.p99, requestsPerSecond: round(under.requestsPerSecond) },
      hostile: { requestsPerSecond: round(hostile.requestsPerSecond), byStatus: hostile.byStatus },
      p99Ratio: round(under.latencyMs.p99 / Math.max(0.01, alone.latencyMs.p99)),
    };
    return { ...base, load: under, hostileText: figures };
  } finally {
    await w.stop();
  }
}

/** The scenario 13 section of the report. */
export function renderHostileText(results: ScenarioResult[]): string[] {
  const g = results.find((r) => r.hostileText)?.hostileText;
  if (!g) return [];
  const row = (s: ShapeTiming) =>
    `| ${s.name} | ${s.chars} | ${s.parseCpuMs.toFixed(2)} | ${s.outcome} | ${s.status} | ${s.minMs.toFixed(1)} | ${s.medianMs.toFixed(1)} |`;
  return [
    '## Scenario 13: SQL text',
    '',
    `\`GET /health\` with ${CLIENTS} connections: p99 ${g.healthAlone.p99Ms.toFixed(1)} ms alone, ${g.healthUnderLoad.p99Ms.toFixed(1)} ms while ${CLIENTS} clients send \`${g.loadText}\` back to back (${g.hostile.requestsPerSecond} req/s, ${JSON.stringify(g.hostile.byStatus)}): **${g.p99Ratio.toFixed(2)}×**; p50 ${g.healthAlone.p50Ms.toFixed(1)} → ${g.healthUnderLoad.p50Ms.toFixed(1)} ms.`,
    '',
    `CPU per translation (pre-scan + parse + translate) in workerd, ${g.parses} in one request (a trivial text: ${g.trivialCpuMs.toFixed(2)} ms); then the gateway's answer to the text, sent ${g.reps} times in a row:`,
    '',
    '| text | chars | CPU ms per translation | translation | gateway status | latency min ms | latency median ms |',
    '|---|---|---|---|---|---|---|',
    ...g.atCaps.map(row),
    ...g.beyondCaps.map(row),
    ...g.rpcOnly.map(row),
    '',
  ];
}
