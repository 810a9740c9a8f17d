/**
 * What the database saw during a scenario: statements executed (pg_stat_statements, reset before
 * each scenario and read after its final flush), row-lock waits (pg_stat_activity sampled while
 * the load runs) and counter sums. The probes connect to the `postgres` database, so their own
 * statements never count against the catalog database they observe.
 */
import pg from 'pg';

export type StatementCounts = {
  total: number;
  /** Counter writes per table (INSERT … ON CONFLICT / UPDATE). */
  clientStatistics: number;
  clientTableStatistics: number;
  apiKeysLastUsed: number;
  /** Auth reads: key and policy lookups. */
  authLookups: number;
  flushLedger: number;
  /** Reads of the catalog's change log (flusher feed, isolates' own epoch checks). */
  changeReads: number;
  /** BEGIN/COMMIT/SET and anything else. */
  other: number;
  /** The ten most-called statements, text shortened. */
  top: { calls: number; query: string }[];
};

export type LockSampling = {
  samples: number;
  intervalMs: number;
  /** Samples with at least one backend waiting on a lock (row locks: `transactionid`/`tuple`). */
  samplesWithLockWait: number;
  maxLockWaiters: number;
  meanLockWaiters: number;
  byWaitEvent: Record<string, number>;
  maxConnections: number;
  meanActive: number;
};

export type CounterSums = { requests: number; errors: number; tableRequests: number; rows: number };

/** Connects to the admin (`postgres`) database; call `end()` when done. */
export async function openProbe(adminUrl: string, catalogDb: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  /** Every statement pg_stat_statements holds for database `datname`, most called first (full text). */
  const statementsIn = async (datname: string): Promise<{ query: string; calls: number }[]> => {
    const res = await client.query<{ query: string; calls: string }>(
      `SELECT s.query, s.calls::text AS calls FROM pg_stat_statements s
       JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 ORDER BY s.calls DESC`,
      [datname],
    );
    return res.rows.map((r) => ({ query: r.query, calls: Number(r.calls) }));
  };

  return {
    async resetStatements(): Promise<void> {
      await client.query('SELECT pg_stat_statements_reset()');
    },

    async statements(): Promise<StatementCounts> {
      const rows = await statementsIn(catalogDb);
      const out: StatementCounts = {
        total: 0,
        clientStatistics: 0,
        clientTableStatistics: 0,
        apiKeysLastUsed: 0,
        authLookups: 0,
        flushLedger: 0,
        changeReads: 0,
        other: 0,
        top: [],
      };
      for (const row of rows) {
        const { calls } = row;
        out.total += calls;
        const q = row.query;
        if (/(insert\s+into|update)\s+"?client_statistics\b/i.test(q)) out.clientStatistics += calls;
        else if (/(insert\s+into|update)\s+"?client_table_statistics\b/i.test(q)) out.clientTableStatistics += calls;
        else if (/update\s+"?api_keys\b/i.test(q)) out.apiKeysLastUsed += calls;
        else if (/flush_batches/i.test(q)) out.flushLedger += calls;
        else if (/catalog_changes|catalog_epoch/i.test(q)) out.changeReads += calls;
        else if (/^\s*select\b[\s\S]*\bfrom\s+"?(api_keys|clients)\b/i.test(q)) out.authLookups += calls;
        else out.other += calls;
        if (out.top.length < 10) out.top.push({ calls, query: q.replace(/\s+/g, ' ').slice(0, 140) });
      }
      return out;
    },

    statementsIn,

    /** Samples pg_stat_activity for the catalog database every `intervalMs` until `stop()`. */
    sampleLocks(intervalMs: number) {
      const acc = { samples: 0, withWait: 0, maxWaiters: 0, sumWaiters: 0, maxConns: 0, sumActive: 0, byEvent: {} as Record<string, number> };
      let running = true;
      const loop = (async () => {
        while (running) {
          const started = Date.now();
          const res = await client.query<{ wait_event_type: string | null; wait_event: string | null; state: string | null; n: string }>(
            `SELECT wait_event_type, wait_event, state, count(*)::text AS n FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid() GROUP BY 1, 2, 3`,
            [catalogDb],
          );
          let waiters = 0;
          let conns = 0;
          let active = 0;
          for (const r of res.rows) {
            const n = Number(r.n);
            conns += n;
            if (r.state === 'active') active += n;
            if (r.wait_event_type === 'Lock') {
              waiters += n;
              const ev = r.wait_event ?? 'unknown';
              acc.byEvent[ev] = (acc.byEvent[ev] ?? 0) + n;
            }
          }
          acc.samples++;
          if (waiters > 0) acc.withWait++;
          acc.maxWaiters = Math.max(acc.maxWaiters, waiters);
          acc.sumWaiters += waiters;
          acc.maxConns = Math.max(acc.maxConns, conns);
          acc.sumActive += active;
          await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
        }
      })();
      return {
        async stop(): Promise<LockSampling> {
          running = false;
          await loop;
          const round = (n: number) => Math.round(n * 100) / 100;
          return {
            samples: acc.samples,
            intervalMs,
            samplesWithLockWait: acc.withWait,
            maxLockWaiters: acc.maxWaiters,
            meanLockWaiters: acc.samples ? round(acc.sumWaiters / acc.samples) : 0,
            byWaitEvent: acc.byEvent,
            maxConnections: acc.maxConns,
            meanActive: acc.samples ? round(acc.sumActive / acc.samples) : 0,
          };
        },
      };
    },

    end: () => client.end(),
  };
}

export type Probe = Awaited<ReturnType<typeof openProbe>>;

/** Catalog-side helpers: wipe counters between scenarios, read sums after the final flush. */
export async function openCatalog(catalogUrl: string) {
  const client = new pg.Client({ connectionString: catalogUrl });
  await client.connect();
  return {
    async resetCounters(): Promise<void> {
      await quiesce(client);
      await client.query('TRUNCATE client_statistics, client_table_statistics, flush_batches, gateway_request_log, auth_attempt_log, admission_events');
      await client.query('UPDATE api_keys SET last_used_at = NULL WHERE last_used_at IS NOT NULL');
    },
    /**
     * The counter tables' fillfactor (room left on each page for HOT updates), table rewritten so
     * it applies to every page. Migration 0005 sets 50; the flusher scenario also measures 100.
     */
    async setFillfactor(percent: number): Promise<void> {
      for (const t of ['client_statistics', 'client_table_statistics']) {
        await client.query(`ALTER TABLE ${t} SET (fillfactor = ${Math.trunc(percent)})`);
        await client.query(`VACUUM FULL ${t}`);
      }
    },
    /** Sums for one client (exact name) or every client starting with `prefix%`. */
    async sums(pattern: string): Promise<CounterSums> {
      const c = await client.query<{ requests: string | null; errors: string | null; rows: string }>(
        'SELECT sum(requests)::text AS requests, sum(errors)::text AS errors, count(*)::text AS rows FROM client_statistics WHERE client_name LIKE $1',
        [pattern],
      );
      const t = await client.query<{ requests: string | null }>(
        'SELECT sum(requests)::text AS requests FROM client_table_statistics WHERE client_name LIKE $1',
        [pattern],
      );
      return {
        requests: Number(c.rows[0]?.requests ?? 0),
        errors: Number(c.rows[0]?.errors ?? 0),
        rows: Number(c.rows[0]?.rows ?? 0),
        tableRequests: Number(t.rows[0]?.requests ?? 0),
      };
    },
    async flushBatches(): Promise<{ batches: number; rows: number }> {
      const r = await client.query<{ n: string; rows: string | null }>('SELECT count(*)::text AS n, sum(rows)::text AS rows FROM flush_batches');
      return { batches: Number(r.rows[0]?.n ?? 0), rows: Number(r.rows[0]?.rows ?? 0) };
    },
    end: () => client.end(),
  };
}

/**
 * Waits until no other session on the catalog runs a statement (two quiet looks in a row), then
 * ends any still running after the cap. A stopped scenario's per-request upserts can still be
 * queued behind row locks; landing after the next scenario's reset, they would count there.
 */
async function quiesce(client: pg.Client, capMs = 15_000): Promise<void> {
  const busy = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`;
  const deadline = Date.now() + capMs;
  let quietLooks = 0;
  while (quietLooks < 2 && Date.now() < deadline) {
    quietLooks = (await client.query(busy)).rowCount === 0 ? quietLooks + 1 : 0;
    if (quietLooks < 2) await new Promise((r) => setTimeout(r, 200));
  }
  if (quietLooks < 2) await client.query(`SELECT pg_terminate_backend(pid) FROM (${busy}) AS b`);
}

export type Catalog = Awaited<ReturnType<typeof openCatalog>>;
