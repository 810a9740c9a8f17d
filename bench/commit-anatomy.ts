/**
 * `npx tsx bench/commit-anatomy.ts [--groups=40] [--batches=8] [--clients=200] [--fillfactor=N]`: where one flusher
 * group commit spends its time, without HTTP in the way. Starts a throwaway Postgres, builds groups
 * of scenario 6's batches (500 deltas each) and times every phase of the committer's path (JSON
 * parse, schema check, merge, statement building, each statement's round trip) and each candidate
 * statement shape on the same groups. `--fillfactor` sets the counter tables' fillfactor first (room
 * for HOT updates), to measure what a migration would buy. Prints a table; writes
 * `bench/results/commit-anatomy-<stamp>.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dev/postgres.js';
import { freePort } from '../dev/ports.js';
import { batchSchema, type Batch } from '../drizzle/batch.js';
import { migrateCatalog } from '../drizzle/migrate.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../crypto/batch-signing.js';
import { acceptBatch } from '../flusher/batch-check.js';
import { verifyBatchSync } from '../flusher/verify.js';
import { groupStatement } from './group-upsert-alternative.js';
import { deltaStatements, ledgerInsert, mergeDeltas } from '../drizzle/upserts.js';
import type { Statement } from '../drizzle/statement.js';
import { signedBatch } from './flusher-batch.js';
import { ROOT } from './workerd.js';
import { z } from 'zod';
import { helpText, scriptArgs, valueFlag, wholeNumber } from '../cli/flags.js';
import { quantile } from './percentile.js';

type Phase = { name: string; ms: number[] };
const spec = {
  helpCommand: '--help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments'),
  flags: {
    groups: valueFlag('<n>', 'groups to commit (default: 40)', wholeNumber(40)),
    batches: valueFlag('<n>', 'batches of 500 deltas per group (default: 8)', wholeNumber(8)),
    clients: valueFlag('<n>', 'clients the deltas are spread over (default: 200)', wholeNumber(200)),
    fillfactor: valueFlag('<percent>', "the counter tables' fillfactor, 10 to 100 (default: 100)", wholeNumber(100, 10, 100)),
  },
};
const HELP = helpText({
  usage: 'npx tsx bench/commit-anatomy.ts [--groups=40] [--batches=8] [--clients=200] [--fillfactor=N]',
  about: 'Times each phase of one flusher group commit on a throwaway Postgres.',
  flags: spec.flags,
});

function timed<T>(phase: Phase, f: () => T): T {
  const t = performance.now();
  const r = f();
  phase.ms.push(performance.now() - t);
  return r;
}

async function timedQuery(phase: Phase, client: pg.PoolClient, st: Statement | string): Promise<pg.QueryResult> {
  const t = performance.now();
  const r = typeof st === 'string' ? await client.query(st) : await client.query(st.text, st.params);
  phase.ms.push(performance.now() - t);
  return r;
}

/** The committer's path as it was: BEGIN, ledger, one upsert per table, COMMIT. */
async function sequential(client: pg.PoolClient, group: Batch[], phases: Record<string, Phase>): Promise<void> {
  const p = (n: string) => (phases[n] ??= { name: n, ms: [] });
  await timedQuery(p('seq: BEGIN'), client, 'BEGIN');
  const ledger = timed(p('seq: build ledger'), () => ledgerInsert(group.map((b) => ({ batch_id: b.batch_id, source: b.source, rows: 1 }))));
  if (ledger) await timedQuery(p('seq: ledger insert'), client, ledger);
  const merged = timed(p('seq: merge (JS)'), () => mergeDeltas(group));
  const sts = timed(p('seq: build upserts (JS)'), () => deltaStatements(merged));
  for (const [i, st] of sts.entries()) await timedQuery(p(`seq: upsert ${i === 0 ? 'client_statistics' : 'client_table_statistics'}`), client, st);
  await timedQuery(p('seq: COMMIT'), client, 'COMMIT');
}

/** One statement: ledger, merge (in SQL) and every upsert, in its own implicit transaction. */
async function single(client: pg.PoolClient, group: Batch[], phases: Record<string, Phase>): Promise<void> {
  const p = (n: string) => (phases[n] ??= { name: n, ms: [] });
  const st = timed(p('one: build statement (JS)'), () => groupStatement(group));
  await timedQuery(p('one: statement'), client, st);
}

/**
 * Batches `first`… of scenario 6 as the flusher's door meets them, timing each per-batch step:
 * the signature check, JSON parse, the accept check and the zod schema it stands in for.
 */
async function makeBatches(count: number, clients: number, first: number, p: (name: string) => Phase): Promise<Batch[]> {
  const secret = 'x'.repeat(16);
  const out: Batch[] = [];
  for (let i = 0; i < count; i++) {
    const { body, headers } = signedBatch({ secret, deltasPerBatch: 500, clients }, first + i);
    const bytes = new TextEncoder().encode(body);
    const h = { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
    const verdict = timed(p('verify, node:crypto (per batch)'), () => verifyBatchSync([secret], h, bytes, Date.now()));
    if (!verdict.ok) throw new Error('bench batch signature refused');
    const json = timed(p('parse JSON (per batch)'), () => JSON.parse(body) as unknown);
    // The flusher's door runs the hand-written accept check; zod only words refusals.
    if (!timed(p('accept check (per batch)'), () => acceptBatch(json))) throw new Error('bench batch refused by the accept check');
    out.push(timed(p('zod batchSchema (per batch)'), () => batchSchema.parse(json)));
  }
  return out;
}

/** Updates, HOT updates, dead tuples and size of the wide counter table. */
async function bloat(client: pg.PoolClient): Promise<unknown> {
  const { rows } = await client.query(
    `SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot_updates, n_dead_tup::int AS dead, pg_relation_size('client_table_statistics')::int AS bytes
       FROM pg_stat_user_tables WHERE relname = 'client_table_statistics'`,
  );
  return rows[0];
}

async function main(): Promise<number> {
  const args = scriptArgs(process.argv.slice(2), spec, HELP);
  if (typeof args === 'number') return args;
  const { groups, batches: perGroup, clients, fillfactor } = args;
  const pgPort = await freePort();
  const server = await startEmbeddedPostgres({ port: pgPort, dataDir: join(tmpdir(), 'athena-gateway', `pg-anatomy-${process.pid}`), persistent: false });
  const url = server.url('anatomy');
  await server.ensureDatabase('anatomy');
  await migrateCatalog(url);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  for (const t of ['client_statistics', 'client_table_statistics']) await pool.query(`ALTER TABLE ${t} SET (fillfactor = ${fillfactor})`);
  const phases: Record<string, Phase> = {};
  const p = (n: string) => (phases[n] ??= { name: n, ms: [] });
  let n = 0;
  const makeGroup = (): Promise<Batch[]> => makeBatches(perGroup, clients, (n += perGroup) - perGroup, p);
  const client = await pool.connect();
  let bloatAfter: unknown;
  try {
    // Warm both paths (plans, caches, rows existing: the steady state of a running flusher).
    for (let i = 0; i < 5; i++) {
      await sequential(client, await makeGroup(), {});
      await single(client, await makeGroup(), {});
    }
    for (const k of Object.keys(phases)) delete phases[k];
    const bloat0 = await bloat(client);
    for (let i = 0; i < groups; i++) {
      const a = await makeGroup();
      const b = await makeGroup();
      let t = performance.now();
      await sequential(client, a, phases);
      p('seq: whole commit').ms.push(performance.now() - t);
      t = performance.now();
      await single(client, b, phases);
      p('one: whole commit').ms.push(performance.now() - t);
    }
    bloatAfter = { before: bloat0, after: await bloat(client) };
  } finally {
    client.release();
    await pool.end();
    await server.stop();
  }
  const rows = Object.values(phases).map((ph) => ({
    phase: ph.name,
    n: ph.ms.length,
    p50: +quantile(ph.ms, 0.5).toFixed(2),
    p90: +quantile(ph.ms, 0.9).toFixed(2),
    mean: +(ph.ms.reduce((s, x) => s + x, 0) / ph.ms.length).toFixed(2),
  }));
  const report = {
    at: new Date().toISOString(),
    loadavg: loadavg(),
    groups,
    batchesPerGroup: perGroup,
    deltasPerBatch: 500,
    clients,
    fillfactor,
    clientTableStatistics: bloatAfter,
    phasesMs: rows,
  };
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `commit-anatomy-${report.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  console.log(
    `load average ${report.loadavg.map((x) => x.toFixed(2)).join(' ')}; ${groups} groups × ${perGroup} batches × 500 deltas, ${clients} clients, fillfactor ${fillfactor}`,
  );
  console.table(rows);
  console.log('client_table_statistics', JSON.stringify(bloatAfter));
  console.log(`written ${file}`);
  return 0;
}

process.exitCode = await main();
