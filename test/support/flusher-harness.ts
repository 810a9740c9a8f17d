/**
 * Shared pieces of the flusher integration tests: a real flusher on a free port against the test
 * catalog DB, signed POSTs, batch builders with per-test client names, and SQL for assertions.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import type { Batch, ClientDelta, KeyDelta, TableDelta } from '../../drizzle/batch.js';
import { OPERATIONS } from '../../drizzle/schema.js';
import { signBatch } from '../../crypto/batch-signing.js';
import { startFlusher, type RunningFlusher, type StartOptions } from '../../flusher/server.js';

export const databaseUrl = inject('databaseUrl');
export const SECRET = 'integration-test-flush-secret';

/**
 * One pool for every file that imports the harness: a fork runs several files on one module graph
 * (isolate: false), so no file ends it; idle connections close on their own and keep nothing alive.
 */
export const db = new pg.Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 1000, allowExitOnIdle: true });

export function startTestFlusher(over: Partial<StartOptions> = {}): Promise<RunningFlusher> {
  return startFlusher({
    databaseUrl,
    signingSecrets: [SECRET],
    host: '127.0.0.1',
    port: 0,
    groupCommitMs: 5,
    maxGroupRows: 20_000,
    poolMax: 10,
    maxBodyBytes: 8 * 1024 * 1024,
    ...over,
  });
}

/** A unique prefix for client names, so concurrent test files never share counter rows. */
export const uniq = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

export const iso = (ms = Date.now()) => new Date(ms).toISOString();

export function batch(parts: { clients?: ClientDelta[]; tables?: TableDelta[]; keys?: KeyDelta[]; id?: string }): Batch {
  return {
    batch_id: parts.id ?? crypto.randomUUID(),
    source: 'integration-test',
    created_at: iso(),
    clients: parts.clients ?? [],
    tables: parts.tables ?? [],
    keys: parts.keys ?? [],
  };
}

export type PostOptions = { secret?: string; timestampMs?: number; headers?: Record<string, string>; unsigned?: boolean };

/** POSTs a batch (or a raw body) to `/v1/batches`, signed unless told otherwise. */
export async function post(flusher: { url: string }, body: Batch | string, opts: PostOptions = {}): Promise<{ status: number; json: unknown }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signed = opts.unsigned ? {} : await signBatch(opts.secret ?? SECRET, text, opts.timestampMs ?? Date.now());
  const res = await fetch(`${flusher.url}/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed, ...opts.headers },
    body: text,
  });
  const raw = await res.text();
  let json: unknown = raw;
  try {
    json = JSON.parse(raw);
  } catch {
    // non-JSON answers are returned as text so assertions show them
  }
  return { status: res.status, json };
}

export async function clientTotals(prefix: string): Promise<Map<string, { requests: number; errors: number; last_seen: string | null }>> {
  const { rows } = await db.query<{ client_name: string; requests: string; errors: string; last_seen: Date | null }>(
    'SELECT client_name, requests, errors, last_seen FROM client_statistics WHERE client_name LIKE $1',
    [`${prefix}%`],
  );
  return new Map(rows.map((r) => [r.client_name, { requests: Number(r.requests), errors: Number(r.errors), last_seen: r.last_seen?.toISOString() ?? null }]));
}

export async function tableTotals(prefix: string): Promise<Map<string, { requests: number; errors: number; duration_ms: number }>> {
  const { rows } = await db.query<{ k: string; requests: string; errors: string; duration_ms: string }>(
    `SELECT client_name || '/' || table_name || '/' || operation AS k, requests, errors, duration_ms FROM client_table_statistics WHERE client_name LIKE $1`,
    [`${prefix}%`],
  );
  return new Map(rows.map((r) => [r.k, { requests: Number(r.requests), errors: Number(r.errors), duration_ms: Number(r.duration_ms) }]));
}

/** Reads one sample of a metric from the Prometheus text exposition. */
export async function metric(flusher: { url: string }, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${flusher.url}/metrics`)).text();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => (want ? l.startsWith(`${name}{`) && l.includes(want) : l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Waits until `n` batches sit in the flusher's open group (its `flusher_open_group_batches` gauge). */
export async function untilOpenGroup(flusher: { url: string }, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await metric(flusher, 'flusher_open_group_batches')) !== n) {
    if (Date.now() > deadline) throw new Error(`open group never reached ${n} batches`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url));
/** tsx as a loader of this very Node process (not the tsx CLI, which would sit between a signal and the server). */
const tsx = import.meta.resolve('tsx');

export type FlusherProcess = ReturnType<typeof runFlusher>;

/**
 * Runs flusher/index.ts (what `npm run flusher` runs) as `node --import tsx`, so the child's pid is
 * the server itself and SIGKILL kills it; with exactly `env` plus PATH.
 */
export function runFlusher(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', tsx, 'flusher/index.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/**
 * Waits for a flusher process's `/healthz` (90 s: tsx starts slowly on a busy machine, and tests
 * start several flushers at once).
 */
export async function untilUp(url: string, run: { output(): string }): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`flusher did not start: ${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deterministic shuffle (so a failure reproduces). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export type HotRows = { clientNames: string[]; keyIds: string[] };

/** `clients` catalog clients `<prefix>-<i>` and 10 keys of the first: the rows every hot batch touches. */
export async function seedHotRows(prefix: string, clients: number): Promise<HotRows> {
  const clientNames = Array.from({ length: clients }, (_, i) => `${prefix}-${i}`);
  await db.query('INSERT INTO clients (client_name) SELECT unnest($1::text[])', [clientNames]);
  const keys = await db.query<{ id: string }>(
    `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes)
     SELECT $1, 'k' || g, $2 || g, md5($2 || g) || md5(g::text || $2), '{"operations":["read"],"tables":["*"]}' FROM generate_series(1, 10) g RETURNING id`,
    [clientNames[0], `ath_${prefix}_`],
  );
  return { clientNames, keyIds: keys.rows.map((r) => r.id) };
}

/**
 * Batch number `n` over the hot rows: every client (1 request, `n % 2` errors), every client ×
 * operation on table `items` (1 request, 2 ms), every key — each list in its own shuffled order.
 */
export function hotBatch(rows: HotRows, n: number): Batch {
  return batch({
    clients: shuffled(rows.clientNames, n + 1).map((c) => ({ client_name: c, requests: 1, errors: n % 2, last_seen: iso() })),
    tables: shuffled(rows.clientNames, n + 100).flatMap((c) =>
      OPERATIONS.map((operation) => ({ client_name: c, table_name: 'items', operation, requests: 1, errors: 0, duration_ms: 2, last_seen: iso() })),
    ),
    keys: shuffled(rows.keyIds, n + 7).map((id) => ({ key_id: id, last_used: iso(Date.now() + n) })),
  });
}
