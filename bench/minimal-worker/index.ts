/**
 * The data path's baseline: a bare Neon session per request (the gateway's session opener, nothing
 * around it) and nothing else — no Hono, no auth, no admission budget, no counters. The bench
 * serves it with `workerd serve` beside the gateway and issues the same statements the gateway
 * does, so the gap between the two is the gateway's own cost. Routes: `/session` opens a session, runs `SELECT 1` and closes it;
 * `/fetch` and `/insert` run the statement the bench passes in instead (FETCH_SQL/FETCH_PARAMS,
 * INSERT_SQL/INSERT_PARAMS). The session route needs its trivial statement: startup, password and
 * the first statement travel together, so a session with no statement never waits for the server
 * to accept it — it would measure a socket, and leave Postgres authenticating backends nobody waits for.
 */
import { openSession, type Session } from '../../worker/db/session.js';

type Env = {
  DATABASE_URL: string;
  NEON_LOCAL_WS_PROXY: string;
  DB_STATEMENT_TIMEOUT_MS: string;
  FETCH_SQL: string;
  FETCH_PARAMS: string;
  INSERT_SQL: string;
  INSERT_PARAMS: string;
};
type Ctx = { waitUntil(promise: Promise<unknown>): void };
type Statement = { text: string; params: unknown[] };

/** The gateway's own session opener (same driver settings and startup parameters), with no budget around it. */
const connect = (env: Env): Promise<Session> =>
  openSession(env.DATABASE_URL, { statementTimeoutMs: Number(env.DB_STATEMENT_TIMEOUT_MS), localWsProxy: env.NEON_LOCAL_WS_PROXY });

/** One session for this request: opened, one statement, closed after the response (as the gateway closes). */
async function once(env: Env, ctx: Ctx, statement: Statement, status: number): Promise<Response> {
  const session = await connect(env);
  try {
    const { rows } = await session.query(statement.text, statement.params);
    return Response.json({ data: rows }, { status });
  } catch (err) {
    return Response.json({ error: { code: 'query_failed', message: err instanceof Error ? err.message : String(err) } }, { status: 500 });
  } finally {
    ctx.waitUntil(session.close());
  }
}

/** The least a session can do and still hear that the server accepted it. */
const SESSION_PROBE: Statement = { text: 'SELECT 1', params: [] };

const statementOf = (text: string, params: string): Statement => ({ text, params: JSON.parse(params) as unknown[] });

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === '/health') return Response.json({ status: 'ok' });
    if (request.method !== 'POST') return new Response(null, { status: 405 });
    if (path === '/session') return once(env, ctx, SESSION_PROBE, 200);
    if (path === '/fetch') return once(env, ctx, statementOf(env.FETCH_SQL, env.FETCH_PARAMS), 200);
    if (path === '/insert') return once(env, ctx, statementOf(env.INSERT_SQL, env.INSERT_PARAMS), 201);
    return new Response(null, { status: 404 });
  },
};
