/**
 * The revocation bound end to end, as an operator meets it (docs/auth.md "The revocation bound"):
 * keys and clients changed with the CLI (`npm run gateway -- …`, in-process) while the worker,
 * served over HTTP, is in use. With the direct sink and with a flusher, a revoked key, a frozen
 * client and a blocking rate limit are refused within AUTH_CHANGE_BOUND_MS of the CLI's answer —
 * key and policy TTLs are 10 minutes here, so only the change can refuse; an isolate idle for
 * longer than the bound refuses a revoked key on its first request. Flusher down: the isolate
 * checks the epoch itself; change log unreadable too: the bound falls back to AUTH_CACHE_TTL_MS.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFlusher, type RunningFlusher } from '../../flusher/server.js';
import { freePort } from '../../dev/ports.js';
import { gateway } from './cli-support.js';
import { TEST_KEY_SIGNING_SECRET } from '../support/key-signing.js';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';
import { createNodeSandbox, type NodeSandbox } from '../support/auth-sandbox.js';
import { queryOnce } from '../support/query-once.js';
import { startWorkerServer, type WorkerServer } from '../support/worker-server.js';

const databaseUrl = inject('databaseUrl');
const tenantUrl = inject('tenantDatabaseUrl');
const BOUND_MS = 2000;
/** How long after the CLI's answer a refusal is waited for: the bound plus a poll's slack. */
const DEADLINE_MS = 2500;
const LONG_TTL = '600000';
const FLUSH_SECRET = 'revocation-test-flush-signing-secret';
const run = `${process.pid}-${Date.now().toString(36)}`;
const table = `revoke_${run.replace(/-/g, '_')}`;

type Who = { client: string; key: string; prefix: string };
type Poll = { startedAt: number; status: number; code: string | undefined };

let n = 0;
async function newKey(): Promise<Who> {
  const client = `rv-${run}-${n++}`;
  expect((await gateway('clients', 'add', client)).code).toBe(0);
  const created = await gateway('keys', 'create', '--client', client, '--name', 'k', '--json');
  expect(created.code).toBe(0);
  return { client, ...(JSON.parse(created.stdout) as { key: string; prefix: string }) };
}

function workerVars(sink: Record<string, string>): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    TENANT_DATABASE_URL: tenantUrl,
    NEON_LOCAL_WS_PROXY: inject('wsProxy'),
    KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    AUTH_CACHE_TTL_MS: LONG_TTL,
    AUTH_POLICY_CACHE_TTL_MS: LONG_TTL,
    AUTH_STALE_IF_UNAVAILABLE_MS: '0',
    AUTH_CHANGE_BOUND_MS: String(BOUND_MS),
    // Clients are created and used at once: an unknown name re-reads the directory.
    AUTH_DIRECTORY_RECHECK_MS: '0',
    STATS_FLUSH_INTERVAL_MS: '1000',
    // Other files run beside this one: requests wait for permits rather than answering 503.
    DB_ACQUIRE_TIMEOUT_MS: '15000',
    DB_CONNECT_TIMEOUT_MS: '15000',
    ...sink,
  };
}

async function call(server: WorkerServer, who: Who): Promise<Poll> {
  const startedAt = Date.now();
  const res = await fetch(`${server.url}/gateway/fetch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': who.client, 'x-athena-key': who.key },
    body: JSON.stringify({ table_name: table, columns: ['id'] }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { startedAt, status: res.status, code: body.error?.code };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Uses `who`'s key every 100 ms (as a client would), runs `change` (a CLI command), then keeps
 * using it until a call is refused or DEADLINE_MS after the CLI answered. Returns every call after
 * the answer. Requests judged after the bound must be refused, so all of those are checked.
 */
async function usedWhileChanged(server: WorkerServer, who: Who, change: () => Promise<{ code: number }>): Promise<{ answeredAt: number; after: Poll[] }> {
  for (let i = 0; i < 5; i++) {
    expect(await call(server, who)).toMatchObject({ status: 200 });
    await sleep(100);
  }
  expect((await change()).code).toBe(0);
  const answeredAt = Date.now();
  const after: Poll[] = [];
  for (;;) {
    const p = await call(server, who);
    after.push(p);
    if (p.status !== 200 || Date.now() >= answeredAt + DEADLINE_MS) break;
    await sleep(100);
  }
  for (let i = 0; i < 3; i++) after.push(await call(server, who)); // refused for good
  return { answeredAt, after };
}

function expectRefusedWithinBound(result: { answeredAt: number; after: Poll[] }, status: number, code: string): void {
  const firstRefused = result.after.findIndex((p) => p.status !== 200);
  expect(firstRefused, JSON.stringify(result.after)).toBeGreaterThanOrEqual(0);
  console.log(`${code}: first refused call started ${(result.after[firstRefused]?.startedAt ?? 0) - result.answeredAt} ms after the CLI answered`);
  for (const p of result.after.slice(firstRefused)) expect(p).toMatchObject({ status, code });
  for (const p of result.after) if (p.startedAt >= result.answeredAt + BOUND_MS) expect(p).toMatchObject({ status, code });
}

let flusher: RunningFlusher;
const servers: WorkerServer[] = [];
const serve = async (vars: Record<string, string>) => {
  const s = await startWorkerServer(vars);
  servers.push(s);
  return s;
};

beforeAll(async () => {
  await queryOnce(tenantUrl, `CREATE TABLE "${table}" (id int PRIMARY KEY); INSERT INTO "${table}" VALUES (1)`);
  flusher = await startFlusher({
    databaseUrl,
    signingSecrets: [FLUSH_SECRET],
    host: '127.0.0.1',
    port: 0,
    groupCommitMs: 5,
    maxGroupRows: 20_000,
    poolMax: 4,
    maxBodyBytes: 8 * 1024 * 1024,
  });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await flusher?.stop();
  await queryOnce(tenantUrl, `DROP TABLE IF EXISTS "${table}"`).catch(() => undefined);
});

const SINKS = {
  direct: () => ({ STATS_SINK: 'direct', FLUSHER_URL: '' }),
  flusher: () => ({ STATS_SINK: 'flusher', FLUSHER_URL: flusher.url, FLUSH_SIGNING_SECRET: FLUSH_SECRET }),
};

// The three groups run at once, each on its own served worker; within a sink's group, one test at
// a time (the idle test needs its isolate quiet).
describe.concurrent.each(Object.keys(SINKS) as Array<keyof typeof SINKS>)('with the %s sink', (sink) => {
  let server: WorkerServer;
  beforeAll(async () => {
    server = await serve(workerVars(SINKS[sink]()));
    const warm = await newKey(); // a fresh workerd compiles and connects on its first request
    expect(await call(server, warm)).toMatchObject({ status: 200 });
  }, 120_000);

  it.sequential('a key in use is refused (401) within the bound of `keys revoke` answering, and stays refused', async () => {
    const who = await newKey();
    expectRefusedWithinBound(await usedWhileChanged(server, who, () => gateway('keys', 'revoke', who.prefix)), 401, 'invalid_api_key');
  }, 60_000);

  it.sequential('a client in use is refused (403) within the bound of `clients set --frozen true` answering', async () => {
    const who = await newKey();
    expectRefusedWithinBound(await usedWhileChanged(server, who, () => gateway('clients', 'set', who.client, '--frozen', 'true')), 403, 'client_frozen');
  }, 60_000);

  it.sequential('a key in use is held to a new limit (blocked: 429) within the bound of `keys set --block` answering', async () => {
    const who = await newKey();
    expectRefusedWithinBound(await usedWhileChanged(server, who, () => gateway('keys', 'set', who.prefix, '--block')), 429, 'rate_limited');
  }, 60_000);

  it.sequential('an isolate idle for longer than the bound refuses a revoked key on its first request', async () => {
    const who = await newKey();
    expect(await call(server, who)).toMatchObject({ status: 200 }); // cached, for 10 minutes
    await sleep(BOUND_MS + 1500); // its counters flushed at 1 s; nothing since
    expect((await gateway('keys', 'revoke', who.prefix)).code).toBe(0);
    expect(await call(server, who)).toMatchObject({ status: 401, code: 'invalid_api_key' });
  }, 60_000);
});

describe.concurrent('with the flusher down', () => {
  it('the isolate checks the epoch itself: a revoked key is still refused within the bound', async () => {
    const server = await serve(workerVars({ STATS_SINK: 'flusher', FLUSHER_URL: `http://127.0.0.1:${await freePort()}`, FLUSH_SIGNING_SECRET: FLUSH_SECRET }));
    const who = await newKey();
    expectRefusedWithinBound(await usedWhileChanged(server, who, () => gateway('keys', 'revoke', who.prefix)), 401, 'invalid_api_key');
  }, 120_000);

  it('and the change log unreadable: the bound falls back to AUTH_CACHE_TTL_MS, never longer', async () => {
    const ttlMs = 4000;
    const box: NodeSandbox = await createNodeSandbox(databaseUrl, inject('adminDatabaseUrl'));
    try {
      // Its key's revocation is recorded (the catalog's trigger), but its role cannot read the log.
      await queryOnce(
        databaseUrl,
        `CREATE TRIGGER api_keys_changed AFTER UPDATE ON "${box.role}".api_keys FOR EACH ROW EXECUTE FUNCTION public.record_catalog_change()`,
      );
      await queryOnce(databaseUrl, `DROP VIEW "${box.role}".catalog_changes`);
      const server = await serve({
        ...workerVars({ STATS_SINK: 'flusher', FLUSHER_URL: `http://127.0.0.1:${await freePort()}`, FLUSH_SIGNING_SECRET: FLUSH_SECRET }),
        AUTH_DATABASE_URL: box.url,
        AUTH_CACHE_TTL_MS: String(ttlMs),
      });
      const warm = await box.clientWithKey(); // a fresh workerd compiles and connects on its first request
      expect(await call(server, { ...warm, prefix: '' })).toMatchObject({ status: 200 });
      const { client, key } = await box.clientWithKey();
      const who = { client, key, prefix: '' };
      const loadStarted = Date.now();
      expect(await call(server, who)).toMatchObject({ status: 200 });
      const loadEnded = Date.now();
      await queryOnce(databaseUrl, `UPDATE "${box.role}".api_keys SET revoked_at = now() WHERE client_name = $1`, [client]);
      const polls: Poll[] = [];
      while (Date.now() < loadEnded + ttlMs + 1000) {
        polls.push(await call(server, who));
        await sleep(200);
      }
      for (const p of polls) if (p.startedAt >= loadEnded + ttlMs) expect(p).toMatchObject({ status: 401, code: 'invalid_api_key' });
      // Served from the cache meanwhile: the check failed and was not retried per request.
      expect(polls.filter((p) => p.startedAt < loadStarted + ttlMs).some((p) => p.status === 200)).toBe(true);
      const status = (await (await fetch(`${server.url}/__gateway/status`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as {
        catalogChanges: { failures: number };
      };
      expect(status.catalogChanges.failures).toBeGreaterThan(0);
    } finally {
      await box.drop();
    }
  }, 120_000);
});
