import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFlusher } from '../../flusher/server.js';
import { batch, clientTotals, db, iso, metric, post, startTestFlusher, tableTotals, uniq, untilOpenGroup } from '../support/flusher-harness.js';

let flusher: RunningFlusher;
beforeAll(async () => {
  flusher = await startTestFlusher({ maxBodyBytes: 64 * 1024 });
});
afterAll(async () => {
  await flusher.stop();
});

describe('flusher POST /v1/batches', () => {
  it('applies a batch: counters added, timestamps kept at the latest, key last-used forward only', async () => {
    const c = uniq('apply');
    await db.query('INSERT INTO clients (client_name) VALUES ($1)', [c]);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO api_keys (client_name, name, prefix, key_hash, scopes, last_used_at) VALUES ($1, 'k', $2, $3, '{"operations":["read"],"tables":["*"]}', $4) RETURNING id`,
      [c, `ath_${c}`, crypto.randomUUID().replace(/-/g, '').repeat(2), '2030-01-01T00:00:00Z'],
    );
    const keyId = rows[0]?.id ?? '';
    const first = batch({
      clients: [{ client_name: c, requests: 3, errors: 1, rate_limited: 1, last_seen: '2029-01-01T00:00:00.000Z' }],
      tables: [{ client_name: c, table_name: 'users', operation: 'read', requests: 3, errors: 1, duration_ms: 30, last_seen: '2029-01-01T00:00:00.000Z' }],
      keys: [{ key_id: keyId, last_used: '2029-06-01T00:00:00.000Z' }],
    });
    expect(await post(flusher, first)).toEqual({ status: 200, json: { batch_id: first.batch_id, status: 'applied' } });
    const second = batch({
      clients: [{ client_name: c, requests: 2, errors: 0, last_seen: '2028-01-01T00:00:00.000Z' }],
      tables: [{ client_name: c, table_name: 'users', operation: 'read', requests: 2, errors: 0, duration_ms: 5, last_seen: '2028-01-01T00:00:00.000Z' }],
      keys: [{ key_id: keyId, last_used: '2031-01-01T00:00:00.000Z' }],
    });
    expect((await post(flusher, second)).status).toBe(200);
    expect((await clientTotals(c)).get(c)).toEqual({ requests: 5, errors: 1, last_seen: '2029-01-01T00:00:00.000Z' });
    expect((await tableTotals(c)).get(`${c}/users/read`)).toEqual({ requests: 5, errors: 1, duration_ms: 35 });
    // rate_limited added too; the second batch has none (a worker before the column): counts as 0.
    expect((await db.query('SELECT rate_limited::int AS n FROM client_statistics WHERE client_name = $1', [c])).rows).toEqual([{ n: 1 }]);
    const key = await db.query<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [keyId]);
    expect(key.rows[0]?.last_used_at.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    // An older last-used never moves it back (first batch said 2029, the row said 2030 before that).
    const third = batch({ keys: [{ key_id: keyId, last_used: '2029-01-01T00:00:00.000Z' }] });
    expect((await post(flusher, third)).status).toBe(200);
    const after = await db.query<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [keyId]);
    expect(after.rows[0]?.last_used_at.toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });

  it('the same batch posted twice, and 10 times concurrently, is applied once', async () => {
    const c = uniq('dup');
    const b = batch({ clients: [{ client_name: c, requests: 7, errors: 0, last_seen: iso() }] });
    expect((await post(flusher, b)).json).toEqual({ batch_id: b.batch_id, status: 'applied' });
    expect((await post(flusher, b)).json).toEqual({ batch_id: b.batch_id, status: 'duplicate' });
    const c2 = uniq('dup-concurrent');
    const b2 = batch({ clients: [{ client_name: c2, requests: 3, errors: 1, last_seen: iso() }] });
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(flusher, b2)));
    const statuses = answers.map((a) => (a.json as { status: string }).status).sort();
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(statuses).toEqual(['applied', ...Array<string>(9).fill('duplicate')]);
    expect((await clientTotals(c)).get(c)?.requests).toBe(7);
    expect((await clientTotals(c2)).get(c2)).toMatchObject({ requests: 3, errors: 1 });
    const ledger = await db.query('SELECT rows FROM flush_batches WHERE batch_id = $1', [b2.batch_id]);
    expect(ledger.rows).toEqual([{ rows: 1 }]);
  });

  it('refuses bad, missing and stale signatures (401), big bodies (413), bad JSON and shapes (400), each as a JSON error, applying nothing', async () => {
    const c = uniq('reject');
    const good = batch({ clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }] });
    const cases: Array<[Awaited<ReturnType<typeof post>>, number, string]> = [
      [await post(flusher, good, { unsigned: true }), 401, 'missing_signature'],
      [await post(flusher, good, { secret: 'not-the-shared-secret' }), 401, 'bad_signature'],
      [await post(flusher, good, { headers: { 'x-flush-signature': 'v1=zz' } }), 401, 'malformed_signature'],
      [await post(flusher, good, { timestampMs: Date.now() - 6 * 60 * 1000 }), 401, 'clock_skew'],
      [await post(flusher, good, { timestampMs: Date.now() + 6 * 60 * 1000 }), 401, 'clock_skew'],
      [await post(flusher, JSON.stringify({ ...good, source: 'x'.repeat(70 * 1024) })), 413, 'too_large'],
      [await post(flusher, '{"batch_id":'), 400, 'invalid_json'],
      [await post(flusher, JSON.stringify({ ...good, clients: [{ client_name: c, requests: -1, errors: 0, last_seen: iso() }] })), 400, 'invalid_shape'],
      [await post(flusher, JSON.stringify({ ...good, batch_id: 'not-a-uuid' })), 400, 'invalid_shape'],
    ];
    for (const [res, status, code] of cases) {
      expect({ status: res.status, code: (res.json as { error: { code: string } }).error.code }).toEqual({ status, code });
      expect((res.json as { error: { message: string } }).error.message).toEqual(expect.any(String));
    }
    expect((await clientTotals(c)).size).toBe(0);
    const ledger = await db.query('SELECT 1 FROM flush_batches WHERE batch_id = $1', [good.batch_id]);
    expect(ledger.rowCount).toBe(0);
  });

  it('GET /healthz answers ok; unknown routes get a JSON 404', async () => {
    expect(await (await fetch(`${flusher.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const res = await fetch(`${flusher.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('GET /metrics moves as batches apply, duplicate and get rejected', async () => {
    const before = {
      applied: await metric(flusher, 'flusher_batches_total', { outcome: 'applied' }),
      duplicate: await metric(flusher, 'flusher_batches_total', { outcome: 'duplicate' }),
      badSig: await metric(flusher, 'flusher_batches_rejected_total', { reason: 'bad_signature' }),
      shape: await metric(flusher, 'flusher_batches_rejected_total', { reason: 'invalid_shape' }),
      rows: await metric(flusher, 'flusher_rows_applied_total', { table: 'client_table_statistics' }),
      groups: await metric(flusher, 'flusher_group_size_batches_count'),
      commits: await metric(flusher, 'flusher_commit_duration_seconds_count'),
    };
    const c = uniq('metrics');
    const b = batch({
      clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }],
      tables: [
        { client_name: c, table_name: 'a', operation: 'read', requests: 1, errors: 0, duration_ms: 1, last_seen: iso() },
        { client_name: c, table_name: 'b', operation: 'read', requests: 1, errors: 0, duration_ms: 1, last_seen: iso() },
      ],
    });
    await post(flusher, b);
    await post(flusher, b);
    await post(flusher, b, { secret: 'wrong-secret-wrong-secret' });
    await post(flusher, JSON.stringify({ ...b, clients: 'nope' }));
    expect(await metric(flusher, 'flusher_batches_total', { outcome: 'applied' })).toBe(before.applied + 1);
    expect(await metric(flusher, 'flusher_batches_total', { outcome: 'duplicate' })).toBe(before.duplicate + 1);
    expect(await metric(flusher, 'flusher_batches_rejected_total', { reason: 'bad_signature' })).toBe(before.badSig + 1);
    expect(await metric(flusher, 'flusher_batches_rejected_total', { reason: 'invalid_shape' })).toBe(before.shape + 1);
    expect(await metric(flusher, 'flusher_rows_applied_total', { table: 'client_table_statistics' })).toBe(before.rows + 2);
    expect(await metric(flusher, 'flusher_group_size_batches_count')).toBe(before.groups + 2);
    expect(await metric(flusher, 'flusher_commit_duration_seconds_count')).toBe(before.commits + 2);
  });
});

describe('a batch the database refuses', () => {
  it('is isolated: its group-mates apply, it alone gets 400 invalid_data (dropped, never retried)', async () => {
    // A trigger refuses one client's rows with a check violation (23514), as a data error would.
    const poison = uniq('poison');
    const fn = `refuse_${poison.replace(/-/g, '_')}`;
    await db.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '23514'; END $$`);
    await db.query(`CREATE TRIGGER ${fn} BEFORE INSERT ON client_statistics FOR EACH ROW
      WHEN (NEW.client_name = '${poison}') EXECUTE FUNCTION ${fn}()`);
    const grouped = await startTestFlusher({ groupCommitMs: 60_000, maxGroupRows: 5 });
    try {
      const good = uniq('good');
      const batches = [
        ...Array.from({ length: 4 }, () => batch({ clients: [{ client_name: good, requests: 3, errors: 1, last_seen: iso() }] })),
        batch({ clients: [{ client_name: poison, requests: 1, errors: 0, last_seen: iso() }] }),
      ];
      // Five one-row batches fill the group (maxGroupRows 5): one transaction, which the poison row fails.
      const answers = await Promise.all(batches.map((b) => post(grouped, b)));
      expect(answers.slice(0, 4).map((a) => [a.status, (a.json as { status: string }).status])).toEqual(Array(4).fill([200, 'applied']));
      expect(answers[4]?.status).toBe(400);
      expect((answers[4]?.json as { error: { code: string } } | undefined)?.error.code).toBe('invalid_data');
      expect((await clientTotals(good)).get(good)).toMatchObject({ requests: 12, errors: 4 });
      expect((await clientTotals(poison)).size).toBe(0);
      expect(await metric(grouped, 'flusher_batches_rejected_total', { reason: 'invalid_data' })).toBe(1);
      expect(await metric(grouped, 'flusher_db_errors_total')).toBe(0);
      // Refused batches are not in the ledger: a fixed sender could resend the id.
      const ledger = await db.query('SELECT 1 FROM flush_batches WHERE batch_id = $1', [batches[4]?.batch_id]);
      expect(ledger.rowCount).toBe(0);
    } finally {
      await grouped.stop();
      await db.query(`DROP TRIGGER IF EXISTS ${fn} ON client_statistics`);
      await db.query(`DROP FUNCTION IF EXISTS ${fn}()`);
    }
  });

  it('NUL characters never reach the database: 400 invalid_shape at the door', async () => {
    const res = await post(flusher, batch({ clients: [{ client_name: 'nul\u0000name', requests: 1, errors: 0, last_seen: iso() }] }));
    expect(res.status).toBe(400);
    expect((res.json as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_shape' });
  });
});

describe('flusher with its database down', () => {
  it('answers 503 with Retry-After for the group, counts a DB error, and applies the batch once the DB is back', async () => {
    const down = await startTestFlusher({ databaseUrl: 'postgres://nobody:x@127.0.0.1:1/none' });
    const c = uniq('down');
    const b = batch({ clients: [{ client_name: c, requests: 4, errors: 0, last_seen: iso() }] });
    try {
      const [r1, r2] = await Promise.all([post(down, b), post(down, batch({ clients: [{ client_name: c, requests: 1, errors: 0, last_seen: iso() }] }))]);
      for (const r of [r1, r2]) {
        expect(r.status).toBe(503);
        expect((r.json as { error: { code: string } }).error.code).toBe('unavailable');
      }
      expect(await metric(down, 'flusher_db_errors_total')).toBeGreaterThanOrEqual(1);
      expect(await metric(down, 'flusher_batches_rejected_total', { reason: 'unavailable' })).toBe(2);
    } finally {
      await down.stop();
    }
    // The worker retries the same batch id against a healthy flusher: applied, once.
    expect((await post(flusher, b)).json).toEqual({ batch_id: b.batch_id, status: 'applied' });
    expect((await clientTotals(c)).get(c)?.requests).toBe(4);
  });
});

describe('flusher shutdown and ledger', () => {
  it('stop() drains the open group: a batch waiting for its group is committed and answered before shutdown ends', async () => {
    // The group timer (10 min) never fires within the test: only the drain can commit the batch.
    const slow = await startTestFlusher({ groupCommitMs: 600_000 });
    const c = uniq('drain');
    const b = batch({ clients: [{ client_name: c, requests: 2, errors: 0, last_seen: iso() }] });
    const pending = post(slow, b);
    await untilOpenGroup(slow, 1);
    await slow.stop();
    expect(await pending).toEqual({ status: 200, json: { batch_id: b.batch_id, status: 'applied' } });
    expect((await clientTotals(c)).get(c)?.requests).toBe(2);
    await expect(fetch(`${slow.url}/healthz`)).rejects.toThrow();
  });

  it('prunes ledger rows older than the retention after a commit, keeping recent ones', async () => {
    const pruning = await startTestFlusher({ pruneIntervalMs: 0, ledgerRetentionMs: 60 * 60 * 1000 });
    try {
      const old = crypto.randomUUID();
      await db.query(`INSERT INTO flush_batches (batch_id, source, rows, applied_at) VALUES ($1, 'old', 1, now() - interval '2 hours')`, [old]);
      const fresh = batch({ clients: [{ client_name: uniq('prune'), requests: 1, errors: 0, last_seen: iso() }] });
      expect((await post(pruning, fresh)).status).toBe(200);
      await pruning.stop(); // drain waits for the prune, too
      const left = await db.query<{ batch_id: string }>('SELECT batch_id FROM flush_batches WHERE batch_id = ANY($1::uuid[])', [[old, fresh.batch_id]]);
      expect(left.rows.map((r) => r.batch_id)).toEqual([fresh.batch_id]);
    } finally {
      await pruning.stop();
    }
  });
});
