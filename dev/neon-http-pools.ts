/**
 * The Postgres side of the local Neon HTTP SQL endpoint: one `pg` pool per role and database (as
 * Neon keeps warm connections to the compute), statements run with every value as text, a batch as
 * one transaction, and Postgres's CancelRequest for a statement whose HTTP client gave up.
 */
import { createConnection } from 'node:net';
import pg from 'pg';
import { beginStatement, resultBody, type SqlRequest, type SqlStatement, type SqlTarget, type TextResult } from './neon-http-protocol.js';

/** Every column as Postgres's text: the driver parses values itself (by `dataTypeID`). */
const RAW_TEXT = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export type SqlPools = {
  connect(target: SqlTarget): Promise<pg.PoolClient>;
  close(): Promise<void>;
};

export function createSqlPools(max: number, log: (line: string) => void): SqlPools {
  const pools = new Map<string, pg.Pool>();
  return {
    connect(t) {
      const key = JSON.stringify([t.host, t.port, t.user, t.password, t.database]);
      let pool = pools.get(key);
      if (!pool) {
        pool = new pg.Pool({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database, max, idleTimeoutMillis: 60_000 });
        pool.on('error', (err) => log(`idle http-path connection to ${t.host}:${t.port}/${t.database} failed: ${err.message}`));
        pools.set(key, pool);
      }
      return pool.connect();
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end().catch(() => undefined)));
    },
  };
}

/**
 * What the endpoint and the run share: whether the client has gone, the hook that cancels the
 * running statement, and the cancel request once sent (the connection waits for it before reuse,
 * so it never lands on the next request's statement).
 */
export type RunState = { aborted: boolean; onAbort: (() => void) | undefined; cancelling: Promise<void> | undefined };

/** What Neon's pool runs on a connection it takes back, so no session state reaches the next request. */
const RESET_SESSION =
  'ROLLBACK; CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES';

/**
 * Gives `client` back to its pool after any cancel request has landed, with the session reset
 * queued ahead of whatever the next request sends (as Neon's does); a broken one is closed.
 */
export async function giveBack(client: pg.PoolClient, broken: boolean, run: RunState, log: (line: string) => void): Promise<void> {
  await run.cancelling;
  if (!broken) void client.query(RESET_SESSION).catch((err: Error) => log(`session reset failed: ${err.message}`));
  client.release(broken);
}

/** One statement, extended protocol (one statement per query, as Neon runs it, even without parameters). */
async function runText(client: pg.PoolClient, s: SqlStatement): Promise<TextResult> {
  const config = { text: s.query, values: s.params, rowMode: 'array', types: RAW_TEXT, queryMode: 'extended' } as pg.QueryArrayConfig;
  const r = await client.query(config);
  return { fields: r.fields, rows: r.rows as Array<Array<string | null>>, command: r.command, rowCount: r.rowCount };
}

/**
 * Runs the request's statements on `client`: a single one as it is (autocommit), a batch between
 * BEGIN (with its options) and COMMIT, rolled back on the first error or once the client has gone.
 * Returns the response body; throws the first error, marked `broken` when even the rollback failed
 * (that connection must not go back to the pool).
 */
export async function runRequest(client: pg.PoolClient, target: SqlTarget, req: SqlRequest, run: RunState): Promise<unknown> {
  run.onAbort = () => {
    run.cancelling = sendCancel(target, client);
  };
  try {
    if (run.aborted) throw new Error('the client closed the request');
    const [first] = req.statements;
    if (!req.batch && first) return resultBody(await runText(client, first), first.arrayMode);
    await client.query(beginStatement(req.batch ?? { isolation: undefined, readOnly: false, deferrable: false }));
    const results: unknown[] = [];
    try {
      for (const s of req.statements) {
        if (run.aborted) throw new Error('the client closed the request');
        results.push(resultBody(await runText(client, s), s.arrayMode));
      }
      await client.query('COMMIT');
    } catch (err) {
      const rolledBack = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      throw Object.assign(err as object, { broken: !rolledBack });
    }
    return { results };
  } finally {
    run.onAbort = undefined;
  }
}

/** Postgres's CancelRequest (its own connection, key from the session's BackendKeyData) for whatever `client`'s backend runs now. */
function sendCancel(target: SqlTarget, client: pg.PoolClient): Promise<void> {
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return Promise.resolve();
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  return new Promise((done) => {
    const socket = createConnection({ host: target.host, port: target.port }, () => socket.end(packet));
    socket.on('close', () => done());
    socket.on('error', () => done());
  });
}
