/**
 * Neon's HTTP SQL endpoint (`POST /sql`) on the local proxy's listener, as `@neondatabase/serverless`
 * speaks it, backed by the local Postgres (docs/configuration.md "Neon HTTP SQL endpoint"). With a
 * round-trip time, a request pays one round trip (half each way, in order per connection) and a new
 * HTTP connection pays its set-up (TCP, TLS 1.3) once; a request reaching a compute asleep waits for
 * the same resume a WebSocket session does. A client that gives up gets its statement cancelled.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import { errorBody, readSqlRequest, type SqlRequest } from './neon-http-protocol.js';
import { createSqlPools, giveBack, runRequest, type RunState, type SqlPools } from './neon-http-pools.js';
import { createLane, HTTP_SETUP_ROUND_TRIPS, type Compute, type Lane } from './wire-delay.js';

/** Neon's own caps on a request and a response body. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** One HTTP request to the endpoint, as the proxy saw it. */
export type SqlRequestStats = {
  /** `host:port` the connection string named ('' when refused before). */
  address: string;
  database: string | undefined;
  statements: number;
  batch: boolean;
  /** HTTP status sent (0 when the client had gone). */
  status: number;
  /** Which request on its HTTP connection this was (1 = the connection's first, which paid the set-up). */
  request: number;
  /** Round trips of set-up paid before it (0 without an RTT, and on a kept-alive connection). */
  setupRoundTrips: number;
  /** Round trips the client waited for: 1 answered, 0 when it gave up first. */
  roundTrips: number;
  resumeWaitMs: number;
  /** From its headers reaching the proxy to its answer sent: the modelled wire (set-up and one round trip) plus `postgresMs` plus the proxy's own lag. */
  spanMs: number;
  /** From its arrival (after the modelled half round trip) to its result: a resume (`resumeWaitMs`), the pool, the previous request's session reset, the statements. */
  postgresMs: number;
  /** The client closed the request before the answer. */
  aborted: boolean;
  /** A CancelRequest went to Postgres for its running statement. */
  cancelled: boolean;
};

export type SqlEndpointOptions = {
  /** Whether the proxy may reach `host:port`. */
  allowed(address: string): boolean;
  rttMs: number;
  compute: Compute;
  /** Connections per role and database kept by the endpoint's pools. */
  poolMax: number;
  log(line: string): void;
  onRequestEnd(stats: SqlRequestStats): void;
};

export type SqlEndpoint = { handle(req: IncomingMessage, res: ServerResponse): void; close(): Promise<void> };

type Link = { toServer: Lane; toClient: Lane; requests: number };
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** Resolves at `t`; at once when `t` has passed (a timer of 0 still waits a tick of at least 1 ms, and more on a loaded machine). */
const until = (t: number): Promise<void> => (t <= Date.now() ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, t - Date.now())));

type Context = { o: SqlEndpointOptions; pools: SqlPools; oneWayMs: number; setup: number; links: WeakMap<Socket, Link> };

export function createSqlEndpoint(o: SqlEndpointOptions): SqlEndpoint {
  const ctx: Context = {
    o,
    pools: createSqlPools(o.poolMax, o.log),
    oneWayMs: o.rttMs / 2,
    setup: o.rttMs > 0 ? HTTP_SETUP_ROUND_TRIPS : 0,
    links: new WeakMap(),
  };
  return {
    handle(req, res) {
      const start = Date.now();
      const link = linkOf(ctx, req.socket);
      link.requests++;
      const stats: SqlRequestStats = {
        address: '',
        database: undefined,
        statements: 0,
        batch: false,
        status: 0,
        request: link.requests,
        setupRoundTrips: link.requests === 1 ? ctx.setup : 0,
        roundTrips: 0,
        resumeWaitMs: 0,
        spanMs: 0,
        postgresMs: 0,
        aborted: false,
        cancelled: false,
      };
      const run: RunState = { aborted: false, onAbort: undefined, cancelling: undefined };
      res.on('close', () => {
        if (res.writableFinished) return;
        stats.aborted = true;
        // The server hears of it half a round trip later.
        void until(link.toServer.due(Date.now())).then(() => {
          run.aborted = true;
          stats.cancelled = run.onAbort !== undefined;
          run.onAbort?.();
        });
      });
      serve(ctx, req, res, { link, stats, run })
        .catch((err: unknown) => {
          // A client gone mid-body ends the read with an error nobody waits for.
          if (res.destroyed) return;
          o.log(`sql endpoint: ${err instanceof Error ? err.message : String(err)}`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody('local endpoint failure')));
        })
        .finally(() => {
          stats.spanMs = Date.now() - start;
          o.onRequestEnd(stats);
        });
    },
    close: () => ctx.pools.close(),
  };
}

/** The connection's lanes; a new one's first request leaves once TCP and TLS are done. */
function linkOf(ctx: Context, socket: Socket): Link {
  let link = ctx.links.get(socket);
  if (!link) {
    link = { toServer: createLane(ctx.oneWayMs, Date.now() + ctx.setup * ctx.o.rttMs + ctx.oneWayMs), toClient: createLane(ctx.oneWayMs), requests: 0 };
    ctx.links.set(socket, link);
  }
  return link;
}

type Exchange = { link: Link; stats: SqlRequestStats; run: RunState };

/** Reads the request, runs it once it has arrived, answers half a round trip later (nothing to a client that has gone). */
async function serve(ctx: Context, req: IncomingMessage, res: ServerResponse, x: Exchange): Promise<void> {
  const arrived = x.link.toServer.due(Date.now());
  const body = await readBody(req);
  await until(arrived);
  const ranFrom = Date.now();
  let reply: Reply;
  if (body === undefined) reply = { status: 413, body: errorBody(`request is too large (max is ${MAX_REQUEST_BYTES} bytes)`) };
  else if (req.method !== 'POST') reply = { status: 405, body: errorBody('the SQL endpoint takes POST only') };
  else {
    const parsed = readSqlRequest(req.headers, body);
    reply = parsed.ok ? await execute(ctx, parsed.value, x) : { status: parsed.error.status, body: errorBody(parsed.error.message) };
  }
  x.stats.postgresMs = Date.now() - ranFrom;
  if (x.run.aborted || res.destroyed) return;
  const json = JSON.stringify(reply.body);
  const fits = Buffer.byteLength(json) <= MAX_RESPONSE_BYTES;
  const status = fits ? reply.status : 507;
  await until(x.link.toClient.due(Date.now()));
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...(fits ? reply.headers : {}) });
  res.end(fits ? json : JSON.stringify(errorBody(`response is too large (max is ${MAX_RESPONSE_BYTES} bytes)`)));
  x.stats.status = status;
  x.stats.roundTrips = 1;
}

/** Waits for the compute, takes a pooled connection, runs the statements; a Postgres error is a 400 with its fields. */
async function execute(ctx: Context, req: SqlRequest, { stats, run }: Exchange): Promise<Reply> {
  const t = req.target;
  Object.assign(stats, { address: `${t.host}:${t.port}`, database: t.database, statements: req.statements.length, batch: req.batch !== undefined });
  if (!ctx.o.allowed(stats.address)) return { status: 400, body: errorBody(`${stats.address} is not an allowed Postgres address`) };
  const opened = Date.now();
  const ready = ctx.o.compute.open(opened);
  stats.resumeWaitMs = Math.max(0, ready - opened);
  try {
    await until(ready);
    if (run.aborted) return { status: 0, body: null };
    let client: pg.PoolClient;
    try {
      client = await ctx.pools.connect(t);
    } catch (err) {
      return failure(err, 500);
    }
    let broken = false;
    try {
      return { status: 200, body: await runRequest(client, t, req, run), headers: batchHeaders(req) };
    } catch (err) {
      broken = (err as { broken?: boolean }).broken === true;
      return failure(err, 400);
    } finally {
      void giveBack(client, broken, run, ctx.o.log);
    }
  } finally {
    ctx.o.compute.close(Date.now());
  }
}

/** A Postgres error with its fields (400, as Neon answers); anything else with its message and `status`. */
function failure(err: unknown, status: number): Reply {
  if (err instanceof pg.DatabaseError) return { status: 400, body: errorBody(err.message, err) };
  return { status, body: errorBody(err instanceof Error ? err.message : String(err)) };
}

/** A batch's answer repeats the transaction options it ran with. */
function batchHeaders(req: SqlRequest): Record<string, string> {
  const h: Record<string, string> = {};
  if (!req.batch) return h;
  if (req.batch.readOnly) h['neon-batch-read-only'] = 'true';
  if (req.batch.deferrable) h['neon-batch-deferrable'] = 'true';
  if (req.batch.isolation) h['neon-batch-isolation-level'] = req.batch.isolation;
  return h;
}

/** The body as text, or undefined past the cap (read to its end all the same, so the client still gets the answer, not a reset). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}
