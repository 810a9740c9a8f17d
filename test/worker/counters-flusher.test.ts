/**
 * Counters through the flusher sink, inside workerd: the worker signs and POSTs its batches
 * to a real flusher (Node, started per test), exact sums after the final flush, and a flusher that
 * stops mid-traffic and comes back — requests unaffected, deltas kept, everything delivered once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchWith } from './harness.js';
import { createClient, createKey, uniqueName } from './seed.js';
import {
  ADMIN,
  clientRow,
  createTenantTable,
  fetchRows,
  flush,
  flushSigningSecret,
  load,
  sample,
  startFlusher,
  tableRows,
  type Caller,
  type TestFlusher,
} from './counters-helpers.js';

let table: string;
beforeAll(async () => {
  table = await createTenantTable();
});

async function caller(): Promise<Caller> {
  const client = await createClient();
  return { client, key: (await createKey(client)).key };
}

const flusherVars = (f: TestFlusher, over: Record<string, string> = {}) => ({
  STATS_SINK: 'flusher',
  FLUSHER_URL: f.url,
  FLUSH_SIGNING_SECRET: flushSigningSecret,
  STATS_FLUSH_INTERVAL_MS: '0',
  STATS_TEST_TAG: uniqueName('iso'),
  ...over,
});

describe('counters, flusher sink', () => {
  it('N requests at concurrency C: exact sums after the final flush, each batch applied by the flusher', async () => {
    const f = await startFlusher();
    try {
      const who = await caller();
      const vars = flusherVars(f);
      const N = 60;
      const statuses = await load(N, 8, () => fetchRows(vars, who, table));
      expect(statuses).toEqual(Array<number>(N).fill(200));
      const final = await flush(vars);
      expect(final.stats).toMatchObject({ sink: 'flusher', pendingKeys: 0, retryRows: 0, failures: 0 });
      expect(await clientRow(who.client)).toEqual({ requests: N, errors: 0 });
      expect((await tableRows(who.client)).map((r) => [r.table_name, r.operation, r.requests])).toEqual([[table, 'read', N]]);
      const metrics = await f.metrics();
      expect(sample(metrics, 'flusher_batches_total', 'outcome="applied"')).toBe(final.stats.flushes);
    } finally {
      await f.stop();
    }
  });

  it('flusher stopped while traffic runs: requests unaffected, deltas kept; restarted: everything delivered exactly once', async () => {
    const f = await startFlusher();
    try {
      const who = await caller();
      const vars = flusherVars(f);
      const before = await load(20, 4, () => fetchRows(vars, who, table));
      await flush(vars);
      expect(await clientRow(who.client)).toEqual({ requests: 20, errors: 0 });

      await f.stop();
      const during = await load(30, 4, () => fetchRows(vars, who, table));
      expect([...before, ...during]).toEqual(Array<number>(50).fill(200));
      const down = await flush(vars);
      expect(down.results).toEqual([{ ok: false, kind: 'unavailable' }]);
      expect(down.stats.retryRows).toBeGreaterThan(0);
      expect(down.stats.failures).toBeGreaterThanOrEqual(1);
      expect(await clientRow(who.client)).toEqual({ requests: 20, errors: 0 });

      await f.start();
      await load(10, 2, () => fetchRows(vars, who, table));
      // The retained batch first (same id), then the pending deltas.
      let answer = await flush(vars);
      for (let i = 0; i < 3 && (answer.stats.retryRows > 0 || answer.stats.pendingKeys > 0); i++) answer = await flush(vars);
      expect(answer.stats).toMatchObject({ retryRows: 0, pendingKeys: 0, consecutiveFailures: 0 });
      expect(await clientRow(who.client)).toEqual({ requests: 60, errors: 0 });
      expect((await tableRows(who.client))[0]?.requests).toBe(60);
    } finally {
      await f.stop();
    }
  });

  it('a worker with the wrong signing secret is refused (401) and keeps its deltas', async () => {
    const f = await startFlusher();
    try {
      const who = await caller();
      const vars = flusherVars(f, { FLUSH_SIGNING_SECRET: 'not-the-flusher-secret-at-all' });
      expect(await load(3, 1, () => fetchRows(vars, who, table))).toEqual([200, 200, 200]);
      const answer = await flush(vars);
      expect(answer.results).toEqual([{ ok: false, kind: 'unavailable' }]);
      expect(answer.stats.retryRows).toBeGreaterThan(0);
      expect(sample(await f.metrics(), 'flusher_batches_rejected_total', 'reason="bad_signature"')).toBeGreaterThanOrEqual(1);
      expect(await clientRow(who.client)).toBeUndefined();
    } finally {
      await f.stop();
    }
  });
  it('FLUSHER_URL lists two replicas: batches spread over both, sums exact, each replica in status', async () => {
    const [a, b] = await Promise.all([startFlusher(), startFlusher()]);
    try {
      const who = await caller();
      const vars = flusherVars(a, { FLUSHER_URL: `${a.url}, ${b.url}` });
      const N = 40;
      expect(await load(N, 4, () => fetchRows(vars, who, table))).toEqual(Array<number>(N).fill(200));
      const final = await flush(vars);
      expect(final.stats).toMatchObject({ pendingKeys: 0, retryRows: 0, failures: 0 });
      expect(await clientRow(who.client)).toEqual({ requests: N, errors: 0 });
      const applied = [
        sample(await a.metrics(), 'flusher_batches_total', 'outcome="applied"'),
        sample(await b.metrics(), 'flusher_batches_total', 'outcome="applied"'),
      ];
      expect(applied[0]).toBeGreaterThan(0);
      expect(applied[1]).toBeGreaterThan(0);
      expect((applied[0] ?? 0) + (applied[1] ?? 0)).toBe(final.stats.flushes);
      expect(final.stats.replicas?.map((r) => r.endpoint)).toEqual([`${a.url}/v1/batches`, `${b.url}/v1/batches`]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a FLUSHER_URL that reaches no flusher (404): requests unaffected, deltas kept, misconfiguration shown in status', async () => {
    const f = await startFlusher();
    try {
      const who = await caller();
      const vars = flusherVars(f, { FLUSHER_URL: `${f.url}/wrong-prefix` });
      expect(await load(3, 1, () => fetchRows(vars, who, table))).toEqual([200, 200, 200]);
      const answer = await flush(vars);
      expect(answer.results).toEqual([{ ok: false, kind: 'misconfigured' }]);
      expect(answer.stats.retryRows).toBeGreaterThan(0);
      const status = (await (await fetchWith(vars, 'http://gateway/__gateway/status', { headers: ADMIN })).json()) as {
        batcher: { lastError: string; replicas: Array<Record<string, unknown>> };
      };
      expect(status.batcher.lastError).toContain('misconfigured');
      expect(status.batcher.replicas).toEqual([
        expect.objectContaining({ endpoint: `${f.url}/wrong-prefix/v1/batches`, lastStatus: 404, misconfigured: expect.stringContaining('404') }),
      ]);
      expect(await clientRow(who.client)).toBeUndefined();
    } finally {
      await f.stop();
    }
  });
});
