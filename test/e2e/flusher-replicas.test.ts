/**
 * Several flusher replicas on one catalog database: a batch id that reaches two replicas applies
 * once, hot rows written through three replicas never deadlock, and the worker's flusher sink —
 * spreading batches over a FLUSHER_URL list — keeps sums exact through a replica SIGKILLed mid-load.
 * Also the sink's URL handling: a base path is kept, and a URL that is not a flusher (404) is
 * reported as misconfigured instead of as an outage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../drizzle/batch.js';
import { OPERATIONS } from '../../drizzle/schema.js';
import { freePort } from '../../dev/ports.js';
import type { SessionContext } from '../../worker/db/with-session.js';
import { FlusherSink } from '../../worker/counters/sink-flusher.js';
import { systemClock } from '../../worker/admission/clock.js';
import { createLoadingCache } from '../../worker/auth/cache.js';
import type { ChangeTargets } from '../../worker/auth/catalog-changes.js';
import { createChangeTracker } from '../../worker/auth/change-tracker.js';
import type { Directory } from '../../worker/auth/directory.js';
import type { ClientPolicy, KeyRecord } from '../../worker/auth/records.js';
import {
  SECRET,
  batch,
  clientTotals,
  databaseUrl,
  hotBatch,
  iso,
  metric,
  post,
  runFlusher,
  seedHotRows,
  shuffled,
  startTestFlusher,
  tableTotals,
  uniq,
  untilUp,
  type FlusherProcess,
} from '../support/flusher-harness.js';

/**
 * The flusher sink talks HTTP, not Postgres: of its context it uses only the isolate's change
 * tracking and the caches an ack's catalog changes are applied to (real ones, empty).
 */
function sinkContext(): SessionContext {
  const opts = { maxEntries: 100, ttlMs: 60_000, negativeTtlMs: 60_000, staleIfUnavailableMs: 0, flightTimeoutMs: 5_000, ...systemClock };
  const services: ChangeTargets = {
    changes: { tracker: createChangeTracker(), check: createLoadingCache<true>(opts) },
    keyCache: createLoadingCache<KeyRecord>({ ...opts, maxBatch: 8 }),
    policyCache: createLoadingCache<ClientPolicy>(opts),
    directory: { cache: createLoadingCache<Directory>(opts), failedAt: undefined },
  };
  return { isolate: { services } } as unknown as SessionContext;
}
const noSession = sinkContext();

const sinkFor = (urls: string[], timeoutMs = 5_000) => new FlusherSink({ flusherUrls: urls, signingSecret: SECRET, timeoutMs, now: Date.now });

/** Sends like the worker's batcher does: a failed batch is resent under the same id until it lands. */
async function deliver(sink: FlusherSink, b: Batch): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const r = await sink.send(b, noSession);
    if (r.ok) return attempt;
    if (r.kind === 'rejected' || attempt >= 50) throw new Error(`batch ${b.batch_id} not delivered: ${r.kind} ${r.message}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A reverse proxy that serves the flusher under `/ingest` (as a path-routing load balancer would). */
async function prefixProxy(target: string, prefix: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (!path.startsWith(`${prefix}/`)) {
        res.writeHead(404).end('not here');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host' && e[0] !== 'content-length'),
      );
      fetch(`${target}${path.slice(prefix.length)}`, { method: req.method ?? 'GET', headers, body: chunks.length ? Buffer.concat(chunks) : null })
        .then(async (r) => res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('flusher replicas on one catalog database', () => {
  it('the same batch id posted to two replicas at once is applied once, 20 times over', async () => {
    const [a, b] = await Promise.all([startTestFlusher(), startTestFlusher()]);
    try {
      const c = uniq('twin');
      for (let i = 0; i < 20; i++) {
        const one = batch({ clients: [{ client_name: c, requests: 3, errors: 1, last_seen: iso() }] });
        const answers = await Promise.all([post(a, one), post(b, one)]);
        expect(answers.map((x) => x.status)).toEqual([200, 200]);
        expect(answers.map((x) => (x.json as { status: string }).status).sort()).toEqual(['applied', 'duplicate']);
      }
      expect((await clientTotals(c)).get(c)).toMatchObject({ requests: 60, errors: 20 });
      expect((await metric(a, 'flusher_batches_total', { outcome: 'applied' })) + (await metric(b, 'flusher_batches_total', { outcome: 'applied' }))).toBe(20);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('hot rows through three replicas, each committing concurrently: no deadlock (every batch 200 first time), exact sums', async () => {
    const replicas = await Promise.all([0, 1, 2].map(() => startTestFlusher({ groupCommitMs: 0, maxGroupRows: 1, maxConcurrentCommits: 6, poolMax: 6 })));
    try {
      const p = uniq('hot3');
      const rows = await seedHotRows(p, 25);
      const { clientNames } = rows;
      const N = 54;
      // Every batch touches every hot row, each in its own shuffled order.
      const batches = Array.from({ length: N }, (_, n) => hotBatch(rows, n));
      // Round-robin over the replicas, all at once: 18 transactions per replica on the same rows.
      const answers = await Promise.all(batches.map((b, i) => post(replicas[i % 3] as { url: string }, b)));
      expect(answers.map((x) => x.status)).toEqual(Array<number>(N).fill(200));
      const clients = await clientTotals(p);
      for (const c of clientNames) expect(clients.get(c)).toMatchObject({ requests: N, errors: N / 2 });
      const tables = await tableTotals(p);
      expect(tables.size).toBe(clientNames.length * OPERATIONS.length);
      for (const t of tables.values()) expect(t).toEqual({ requests: N, errors: 0, duration_ms: 2 * N });
      for (const r of replicas) expect(await metric(r, 'flusher_db_errors_total')).toBe(0);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('the sink rotates over a FLUSHER_URL list: two replicas get exactly half of the batches each', async () => {
    const [a, b] = await Promise.all([startTestFlusher(), startTestFlusher()]);
    try {
      const c = uniq('spread');
      const sink = sinkFor([a.url, b.url]);
      for (let i = 0; i < 10; i++)
        expect(await sink.send(batch({ clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }] }), noSession)).toMatchObject({
          ok: true,
          status: 'applied',
        });
      expect(await metric(a, 'flusher_batches_total', { outcome: 'applied' })).toBe(5);
      expect(await metric(b, 'flusher_batches_total', { outcome: 'applied' })).toBe(5);
      expect((await clientTotals(c)).get(c)?.requests).toBe(10);
      expect(sink.snapshot().map((r) => [r.sent, r.failures, r.misconfigured])).toEqual([
        [5, 0, null],
        [5, 0, null],
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('sums stay exact through a replica SIGKILLed mid-load (three flusher processes, the sink fails over)', async () => {
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const procs: FlusherProcess[] = ports.map((port) =>
      runFlusher({ DATABASE_URL: databaseUrl, FLUSH_SIGNING_SECRET: SECRET, FLUSHER_PORT: String(port), FLUSHER_GROUP_COMMIT_MS: '5' }),
    );
    try {
      await Promise.all(urls.map((u, i) => untilUp(u, procs[i] as FlusherProcess)));
      const p = uniq('kill');
      const hot = Array.from({ length: 6 }, (_, i) => `${p}-${i}`);
      const expected = new Map(hot.map((c) => [c, 0]));
      const sink = sinkFor(urls, 3_000);
      const POSTERS = 8;
      const PER_POSTER = 40;
      let sent = 0;
      let killed = false;
      const poster = async (id: number) => {
        for (let n = 0; n < PER_POSTER; n++) {
          const clients = shuffled(hot, id * 1000 + n)
            .slice(0, 3)
            .map((c, j) => ({ client_name: c, requests: 1 + ((n + j) % 4), errors: 0, last_seen: iso() }));
          for (const row of clients) expected.set(row.client_name, (expected.get(row.client_name) ?? 0) + row.requests);
          await deliver(sink, batch({ clients }));
          // A third of the way in, one replica dies without draining: answers it owed are lost.
          if (++sent === Math.floor((POSTERS * PER_POSTER) / 3) && !killed) {
            killed = true;
            procs[1]?.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: POSTERS }, (_, id) => poster(id)));
      expect(killed).toBe(true);
      expect(await procs[1]?.exited).toBeNull(); // killed by a signal, not exited
      const totals = await clientTotals(p);
      for (const c of hot) expect({ c, requests: totals.get(c)?.requests }).toEqual({ c, requests: expected.get(c) });
      const replicas = sink.snapshot();
      expect(replicas[1]?.failures).toBeGreaterThan(0); // the dead replica was tried and skipped
      expect((replicas[0]?.sent ?? 0) + (replicas[2]?.sent ?? 0)).toBeGreaterThan(POSTERS * PER_POSTER * 0.6);
    } finally {
      for (const proc of procs) proc.child.kill('SIGKILL');
    }
  }, 150_000); // three Node processes start and 320 batches flow: tens of seconds on a busy machine
});

describe('the flusher sink and its FLUSHER_URL', () => {
  it('keeps the base path: a flusher served under /ingest gets the batch (with or without a trailing slash)', async () => {
    const f = await startTestFlusher();
    const proxy = await prefixProxy(f.url, '/ingest');
    try {
      const c = uniq('prefix');
      for (const base of [`${proxy.url}/ingest`, `${proxy.url}/ingest/`]) {
        const answer = await sinkFor([base]).send(batch({ clients: [{ client_name: c, requests: 2, errors: 0, last_seen: iso() }] }), noSession);
        expect(answer).toMatchObject({ ok: true, status: 'applied' });
      }
      expect((await clientTotals(c)).get(c)?.requests).toBe(4);
    } finally {
      await proxy.close();
      await f.stop();
    }
  });

  it('a URL that reaches no flusher (404) is misconfigured, not an outage; a healthy replica in the list still takes the batch', async () => {
    const f = await startTestFlusher();
    try {
      const c = uniq('misconf');
      const wrong = `${f.url}/not-the-flusher`;
      const alone = sinkFor([wrong]);
      const refused = await alone.send(batch({ clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }] }), noSession);
      expect(refused).toMatchObject({ ok: false, kind: 'misconfigured' });
      expect(!refused.ok && refused.message).toContain('/not-the-flusher/v1/batches: answered 404');
      expect(alone.snapshot()[0]).toMatchObject({ lastStatus: 404, failures: 1, misconfigured: expect.stringContaining('404') });

      const mixed = sinkFor([wrong, f.url]);
      for (let i = 0; i < 4; i++)
        expect(await mixed.send(batch({ clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }] }), noSession)).toMatchObject({
          ok: true,
          status: 'applied',
        });
      // Tried once, then put last: the healthy replica answers first from then on.
      expect(mixed.snapshot().map((r) => [r.sent, r.failures])).toEqual([
        [1, 1],
        [4, 0],
      ]);
      expect((await clientTotals(c)).get(c)?.requests).toBe(4);
    } finally {
      await f.stop();
    }
  });
});
