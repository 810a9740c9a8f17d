/**
 * Scenario 15: revocation across 4 isolates (docs/auth.md "The revocation bound"). Four `workerd
 * serve` processes, one isolate each, every one verifying the same key from two callers in a loop;
 * after a steady phase the key is revoked with the CLI's statement, and each isolate's time to
 * refusal is measured: from the UPDATE's answer to the first refused call started after it (target:
 * p100 ≤ AUTH_CHANGE_BOUND_MS = 2 s). Catalog reads per request (auth lookups and change-log reads,
 * from pg_stat_statements) are reported for the steady phase, per sink, and — with `--baseline` —
 * for the baseline bundle under the same load (must not rise).
 */
import pg from 'pg';
import { freePort } from '../dev/ports.js';
import { hashApiKey, mintApiKey } from '../crypto/key-format.js';
import { signerFor } from '../crypto/key-signing.js';
import { sleep } from '../dev/process-group.js';
import { workerVars, type Ctx, type ScenarioResult } from './scenarios.js';
import { startWorkerd, type Bundle, type Workerd } from './workerd.js';

const ISOLATES = 4;
const CALLERS_PER_ISOLATE = 2;
const STEADY_MS = { full: 8_000, quick: 3_000 } as const;
/** Longest wait for a refusal: past it an isolate counts as never refusing (the old bound was 30 s). */
const REFUSAL_DEADLINE_MS = 35_000;
const CLIENT = 'bench-revoke';

export type RevocationFigures = {
  sink: string;
  isolates: number;
  /** Per isolate, ms from the revoking UPDATE's answer to its first refused call (null: none within the deadline). */
  timeToRefusalMs: (number | null)[];
  p100Ms: number | null;
  /** Calls accepted that started after the revocation was answered, per isolate. */
  acceptedAfter: number[];
  steady: CatalogReads;
  /** The baseline bundle under the same load (with `--baseline`). */
  baseline?: CatalogReads;
};

type CatalogReads = { requests: number; authLookups: number; changeReads: number; perRequest: number };

type Call = { startedAt: number; status: number };

async function seedKey(catalogUrl: string, secret: string): Promise<{ key: string; id: string }> {
  const sign = await signerFor([secret]);
  const db = new pg.Client({ connectionString: catalogUrl });
  await db.connect();
  try {
    await db.query('DELETE FROM clients WHERE client_name = $1', [CLIENT]);
    await db.query(`INSERT INTO clients (client_name, api_key_enforcement) VALUES ($1, 'required')`, [CLIENT]);
    const { key, prefix } = await mintApiKey(sign);
    const row = await db.query<{ id: string }>(
      `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, 'revoked', $2, $3, '{"operations":["read"],"tables":["*"]}') RETURNING id::text AS id`,
      [CLIENT, prefix, await hashApiKey(key)],
    );
    return { key, id: row.rows[0]?.id ?? '' };
  } finally {
    await db.end();
  }
}

/** Callers verifying `key` on `w` until `stop()`; every call's start and status. */
function callers(w: Workerd, key: string): { calls: Call[]; stop(): Promise<void> } {
  const calls: Call[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const startedAt = Date.now();
      const res = await fetch(`${w.url}/v1/auth/verify`, { headers: { 'x-athena-client': CLIENT, 'x-athena-key': key } }).catch(() => undefined);
      await res?.arrayBuffer();
      calls.push({ startedAt, status: res?.status ?? 0 });
      await sleep(10);
    }
  };
  const loops = Array.from({ length: CALLERS_PER_ISOLATE }, loop);
  return {
    calls,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Steady load on `ws` for `ms`: requests made and catalog reads seen by Postgres meanwhile. */
async function steadyReads(ctx: Ctx, ws: readonly Workerd[], key: string, ms: number): Promise<CatalogReads> {
  const warmup = ws.map((w) => callers(w, key));
  await sleep(1500);
  await Promise.all(warmup.map((c) => c.stop()));
  await ctx.probe.resetStatements();
  const load = ws.map((w) => callers(w, key));
  await sleep(ms);
  await Promise.all(load.map((c) => c.stop()));
  const st = await ctx.probe.statements();
  const requests = load.reduce((n, c) => n + c.calls.length, 0);
  return { requests, authLookups: st.authLookups, changeReads: st.changeReads, perRequest: requests ? (st.authLookups + st.changeReads) / requests : 0 };
}

async function startIsolates(ctx: Ctx, bundle: Bundle, sink: 'flusher' | 'direct', label: string): Promise<Workerd[]> {
  const vars = workerVars(ctx, { id: '15', group: 15, title: '', sink, request: { method: 'GET', path: '/health' }, connections: 0, counted: false });
  const ws: Workerd[] = [];
  for (let i = 0; i < ISOLATES; i++) ws.push(await startWorkerd(bundle, await freePort(), vars, `workerd-15-${label}-${i + 1}`));
  return ws;
}

/** Scenario 15 for one sink; `baseline` adds the baseline bundle's steady phase. */
export async function runRevocationScenario(ctx: Ctx, sink: 'flusher' | 'direct', baseline?: Bundle): Promise<ScenarioResult> {
  const base: ScenarioResult = {
    id: `15-${sink}`,
    group: 15,
    title: `revocation across ${ISOLATES} isolates, ${sink}`,
    request: 'GET /v1/auth/verify',
    connections: ISOLATES * CALLERS_PER_ISOLATE,
    durationMs: STEADY_MS[ctx.mode],
    vars: { STATS_SINK: sink, isolates: String(ISOLATES) },
  };
  const { key, id } = await seedKey(ctx.stack.catalogUrl, ctx.keySigningSecret);
  let before: CatalogReads | undefined;
  if (baseline) {
    const old = await startIsolates(ctx, baseline, sink, 'baseline');
    try {
      before = await steadyReads(ctx, old, key, STEADY_MS[ctx.mode]);
    } finally {
      await Promise.all(old.map((w) => w.stop()));
    }
  }
  const ws = await startIsolates(ctx, ctx.bundle, sink, 'after');
  try {
    const steady = await steadyReads(ctx, ws, key, STEADY_MS[ctx.mode]);
    const load = ws.map((w) => callers(w, key));
    await sleep(1000);
    const db = new pg.Client({ connectionString: ctx.stack.catalogUrl });
    await db.connect();
    await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]); // what `keys revoke` runs
    const answeredAt = Date.now();
    await db.end();
    const refusedAt = (c: { calls: Call[] }) => c.calls.find((x) => x.startedAt >= answeredAt && x.status === 401)?.startedAt;
    while (Date.now() < answeredAt + REFUSAL_DEADLINE_MS && load.some((c) => refusedAt(c) === undefined)) await sleep(50);
    await sleep(300);
    await Promise.all(load.map((c) => c.stop()));
    const timeToRefusalMs = load.map((c) => {
      const at = refusedAt(c);
      return at === undefined ? null : at - answeredAt;
    });
    const known = timeToRefusalMs.filter((t): t is number => t !== null);
    const revocation: RevocationFigures = {
      sink,
      isolates: ISOLATES,
      timeToRefusalMs,
      p100Ms: known.length === timeToRefusalMs.length ? Math.max(...known) : null,
      acceptedAfter: load.map((c) => c.calls.filter((x) => x.startedAt >= answeredAt && x.status === 200).length),
      steady,
      ...(before ? { baseline: before } : {}),
    };
    return { ...base, revocation };
  } finally {
    await Promise.all(ws.map((w) => w.stop()));
  }
}

/** The scenario 15 section of the report. */
export function renderRevocation(results: ScenarioResult[]): string[] {
  const rows = results.flatMap((r) => (r.revocation ? [r.revocation] : []));
  if (rows.length === 0) return [];
  const reads = (c: CatalogReads | undefined) =>
    c ? `${c.perRequest.toFixed(4)} (${c.authLookups} lookups + ${c.changeReads} change reads / ${c.requests} requests)` : '—';
  return [
    '## Revocation across isolates (scenario 15)',
    '',
    "Time from the revoking UPDATE's answer to each isolate's first refused call (target p100 ≤ 2 s), and catalog reads per request in the steady phase (must not rise against the baseline).",
    '',
    '| sink | time to refusal per isolate (ms) | p100 (ms) | accepted after | catalog reads / request | baseline |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.sink} | ${r.timeToRefusalMs.map((t) => (t === null ? 'never' : String(t))).join(', ')} | ${r.p100Ms ?? 'never'} | ${r.acceptedAfter.join(', ')} | ${reads(r.steady)} | ${reads(r.baseline)} |`,
    ),
    '',
  ];
}
