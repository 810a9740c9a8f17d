import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import type { TableDelta } from '../../drizzle/batch.js';
import { OPERATIONS } from '../../drizzle/schema.js';
import {
  batch,
  clientTotals,
  databaseUrl,
  db,
  hotBatch,
  iso,
  metric,
  post,
  seedHotRows,
  startTestFlusher,
  tableTotals,
  uniq,
  untilOpenGroup,
} from '../support/flusher-harness.js';

describe('flusher under concurrency', () => {
  it('20 concurrent flushes with overlapping key sets, each in its own transaction: no deadlock, exact sums', async () => {
    // maxGroupRows 1 and 20 commit slots: every batch commits alone and at once, so 20 transactions
    // contend for the same rows (as 20 flusher replicas would).
    const flusher = await startTestFlusher({ groupCommitMs: 0, maxGroupRows: 1, maxConcurrentCommits: 20, poolMax: 20 });
    try {
      const p = uniq('overlap');
      const rows = await seedHotRows(p, 30);
      const { clientNames } = rows;
      // Every batch touches every client and key, in its own (shuffled) order.
      const batches = Array.from({ length: 20 }, (_, n) => hotBatch(rows, n));
      const answers = await Promise.all(batches.map((b) => post(flusher, b)));
      expect(answers.map((a) => a.status)).toEqual(Array<number>(20).fill(200));
      const clients = await clientTotals(p);
      expect(clients.size).toBe(30);
      for (const c of clientNames) expect(clients.get(c)).toMatchObject({ requests: 20, errors: 10 });
      const tables = await tableTotals(p);
      expect(tables.size).toBe(30 * OPERATIONS.length);
      for (const t of tables.values()) expect(t).toEqual({ requests: 20, errors: 0, duration_ms: 40 });
      expect(await metric(flusher, 'flusher_db_errors_total')).toBe(0);
    } finally {
      await flusher.stop();
    }
  });

  it('one batch id posted 10 times concurrently, each copy in its own transaction: applied exactly once', async () => {
    const flusher = await startTestFlusher({ groupCommitMs: 0, maxGroupRows: 1, maxConcurrentCommits: 10, poolMax: 10 });
    try {
      const c = uniq('race');
      const b = batch({ clients: [{ client_name: c, requests: 5, errors: 2, last_seen: iso() }] });
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(flusher, b)));
      expect(answers.map((a) => a.status)).toEqual(Array<number>(10).fill(200));
      expect(answers.map((a) => (a.json as { status: string }).status).sort()).toEqual(['applied', ...Array<string>(9).fill('duplicate')]);
      expect((await clientTotals(c)).get(c)).toMatchObject({ requests: 5, errors: 2 });
      expect(await metric(flusher, 'flusher_group_size_batches_count')).toBe(10);
    } finally {
      await flusher.stop();
    }
  });

  it('100 concurrent batches of 500 rows commit correctly, 10 per group (the row cap closes each group)', async () => {
    // The timer never fires first: groups close on FLUSHER_GROUP_MAX_ROWS, so the split is exact.
    const flusher = await startTestFlusher({ groupCommitMs: 60_000, maxGroupRows: 5_000, poolMax: 4 });
    try {
      const p = uniq('bulk');
      const clientNames = Array.from({ length: 100 }, (_, i) => `${p}-${i}`);
      const tableRows = (n: number): TableDelta[] =>
        Array.from({ length: 400 }, (_, i) => ({
          client_name: clientNames[i % 100] ?? p,
          table_name: `t${Math.floor(i / 100)}`,
          operation: 'read',
          requests: 2,
          errors: i % 2,
          duration_ms: n,
          last_seen: iso(),
        }));
      const batches = Array.from({ length: 100 }, (_, n) =>
        batch({ clients: clientNames.map((c) => ({ client_name: c, requests: 3, errors: 1, last_seen: iso() })), tables: tableRows(n) }),
      );
      expect(batches[0] && batches[0].clients.length + batches[0].tables.length).toBe(500);
      const answers = await Promise.all(batches.map((b) => post(flusher, b)));
      expect(answers.filter((a) => a.status === 200 && (a.json as { status: string }).status === 'applied')).toHaveLength(100);
      const clients = await clientTotals(p);
      expect(clients.size).toBe(100);
      for (const v of clients.values()) expect(v).toMatchObject({ requests: 300, errors: 100 });
      const tables = await tableTotals(p);
      expect(tables.size).toBe(400);
      const sumDuration = (100 * 99) / 2;
      for (const [k, v] of tables) expect({ k, ...v }).toEqual({ k, requests: 200, errors: expect.any(Number), duration_ms: sumDuration });
      expect([...tables.values()].reduce((a, v) => a + v.errors, 0)).toBe(200 * 100);
      const ledger = await db.query('SELECT count(*)::int AS n FROM flush_batches WHERE batch_id = ANY($1::uuid[])', [batches.map((b) => b.batch_id)]);
      expect(ledger.rows[0]).toEqual({ n: 100 });
      expect(await metric(flusher, 'flusher_group_size_batches_count')).toBe(10);
      expect(await metric(flusher, 'flusher_group_size_batches_sum')).toBe(100);
    } finally {
      await flusher.stop();
    }
  });
});

describe('statements per group, measured by Postgres', () => {
  it('one statement per table (and one ledger insert) per group commit', async () => {
    // A dedicated role, so pg_stat_statements counts this flusher's statements and nobody else's.
    const role = `flusher_stmt_${crypto.randomUUID().slice(0, 8)}`;
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON client_statistics, client_table_statistics, api_keys, flush_batches TO ${role}`);
    const url = new URL(databaseUrl);
    url.username = role;
    url.password = 'pw';
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    const flusher = await startTestFlusher({ databaseUrl: url.toString(), groupCommitMs: 0 });
    try {
      const p = uniq('stmts');
      await db.query('INSERT INTO clients (client_name) VALUES ($1)', [p]);
      const key = await db.query<{ id: string }>(
        `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes) VALUES ($1, 'k', $2, md5($2) || md5($1), '{"operations":["read"],"tables":["*"]}') RETURNING id`,
        [p, `ath_${p}`],
      );
      const keyId = key.rows[0]?.id ?? '';
      for (let i = 0; i < 5; i++) {
        const b = batch({
          clients: Array.from({ length: 50 }, (_, j) => ({ client_name: `${p}-${j}`, requests: 1, errors: 0, last_seen: iso() })),
          tables: Array.from({ length: 50 }, (_, j) => ({
            client_name: `${p}-${j}`,
            table_name: 'x',
            operation: 'read' as const,
            requests: 1,
            errors: 0,
            duration_ms: 1,
            last_seen: iso(),
          })),
          keys: [{ key_id: keyId, last_used: iso() }],
        });
        expect((await post(flusher, b)).status).toBe(200);
      }
      const groups = await metric(flusher, 'flusher_group_size_batches_count');
      const { rows } = await admin.query<{ t: string; calls: string }>(
        `SELECT CASE WHEN query ILIKE 'INSERT INTO client_statistics%' THEN 'client_statistics'
                     WHEN query ILIKE 'INSERT INTO client_table_statistics%' THEN 'client_table_statistics'
                     WHEN query ILIKE '%UPDATE api_keys%' THEN 'api_keys'
                     WHEN query ILIKE 'INSERT INTO flush_batches%' THEN 'flush_batches' ELSE 'other' END AS t,
                sum(calls)::text AS calls
           FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
          WHERE r.rolname = $1 AND query !~* '^(BEGIN|COMMIT|ROLLBACK)'
          GROUP BY 1 ORDER BY 1`,
        [role],
      );
      expect(groups).toBe(5);
      expect(Object.fromEntries(rows.map((r) => [r.t, Number(r.calls)]))).toEqual({
        api_keys: 5,
        client_statistics: 5,
        client_table_statistics: 5,
        flush_batches: 5,
      });
    } finally {
      await flusher.stop();
      await admin.end();
    }
  });
  // Commit slots bound the transactions in flight; batches arriving while every slot is busy wait in
  // one open group and merge. 2 is the default (FLUSHER_MAX_CONCURRENT_COMMITS).
  it.each([1, 2])('%i commit slot(s): that many transactions in flight, later batches wait in one open group and merge', async (slots) => {
    const flusher = await startTestFlusher({ groupCommitMs: 0, poolMax: 10, maxConcurrentCommits: slots });
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    try {
      const hot = uniq('hot');
      await db.query('INSERT INTO client_statistics (client_name, requests) VALUES ($1, 0)', [hot]);
      // Hold the hot row so every group's transaction blocks mid-commit.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM client_statistics WHERE client_name = $1 FOR UPDATE', [hot]);
      const hotBatch = () => batch({ clients: [{ client_name: hot, requests: 1, errors: 0, last_seen: iso() }] });
      const waitingOnLock = async () =>
        Number(
          (
            await db.query<{ n: string }>(
              `SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO client_statistics%'`,
            )
          ).rows[0]?.n,
        );
      const blocked = async (n: number) => {
        const deadline = Date.now() + 20_000;
        while ((await waitingOnLock()) !== n) {
          if (Date.now() > deadline) throw new Error(`expected ${n} commit(s) blocked on the row lock`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const first: ReturnType<typeof post>[] = [];
      for (let i = 1; i <= slots; i++) {
        first.push(post(flusher, hotBatch()));
        await blocked(i);
      }
      const rest = Array.from({ length: 40 - slots }, () => post(flusher, hotBatch()));
      await untilOpenGroup(flusher, 40 - slots);
      expect(await waitingOnLock()).toBe(slots); // no further transaction: the other batches wait, merged
      await locker.query('COMMIT');
      const answers = await Promise.all([...first, ...rest]);
      expect(answers.map((a) => a.status)).toEqual(Array<number>(40).fill(200));
      expect(await metric(flusher, 'flusher_group_size_batches_count')).toBe(slots + 1);
      expect((await clientTotals(hot)).get(hot)).toMatchObject({ requests: 40 });
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await flusher.stop();
    }
  });
});
