import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { parseFlusherEnv } from '../../flusher/config.js';
import { SECRET, batch, clientTotals, databaseUrl, iso, post, runFlusher, uniq, untilOpenGroup, untilUp } from '../support/flusher-harness.js';

describe('flusher config', () => {
  it('applies documented defaults and requires DATABASE_URL and FLUSH_SIGNING_SECRET', () => {
    const ok = parseFlusherEnv({ DATABASE_URL: 'postgres://u:p@h:5432/d', FLUSH_SIGNING_SECRET: 'x'.repeat(16) });
    expect(ok).toEqual({
      ok: true,
      config: {
        databaseUrl: 'postgres://u:p@h:5432/d',
        signingSecrets: ['x'.repeat(16)],
        host: '127.0.0.1',
        port: 8788,
        groupCommitMs: 0,
        maxGroupRows: 20_000,
        maxConcurrentCommits: 2,
        poolMax: 10,
        maxBodyBytes: 8 * 1024 * 1024,
        ledgerRetentionMs: 24 * 3_600_000,
        changesIntervalMs: 250,
      },
    });
    const bad = parseFlusherEnv({ FLUSHER_PG_POOL_MAX: '0', FLUSHER_GROUP_COMMIT_MS: 'soon' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors).toEqual(
        expect.arrayContaining([
          'DATABASE_URL is required',
          'FLUSH_SIGNING_SECRET is required',
          'FLUSHER_PG_POOL_MAX must be an integer between 1 and 1000',
          'FLUSHER_GROUP_COMMIT_MS must be an integer between 0 and 10000',
        ]),
      );
    }
  });
  it('FLUSH_SIGNING_SECRET takes a comma-separated list for rotations, each entry at least 16 characters', () => {
    const two = parseFlusherEnv({ DATABASE_URL: 'postgres://u:p@h:5432/d', FLUSH_SIGNING_SECRET: ` ${'n'.repeat(16)} , ${'o'.repeat(20)} ` });
    expect(two.ok && two.config.signingSecrets).toEqual(['n'.repeat(16), 'o'.repeat(20)]);
    const short = parseFlusherEnv({ DATABASE_URL: 'postgres://u:p@h:5432/d', FLUSH_SIGNING_SECRET: `${'n'.repeat(16)},tiny-old-secret` });
    expect(short).toEqual({ ok: false, errors: ['FLUSH_SIGNING_SECRET must be at least 16 characters (each entry of a comma-separated list)'] });
  });
});

describe('npm run flusher (flusher/index.ts)', () => {
  it('exits 1 naming every bad variable, without echoing secrets', async () => {
    const run = runFlusher({ DATABASE_URL: 'mysql://nope', FLUSH_SIGNING_SECRET: 'tiny-secret', FLUSHER_PORT: '99999' });
    expect(await run.exited).toBe(1);
    const out = run.output();
    expect(out).toContain('DATABASE_URL must be a postgres:// connection URL');
    expect(out).toContain('FLUSH_SIGNING_SECRET must be at least 16 characters');
    expect(out).toContain('FLUSHER_PORT must be an integer between 0 and 65535');
    expect(out).not.toContain('tiny-secret');
  });

  it('serves, and on SIGTERM commits the open group, answers it, and exits 0', async () => {
    const port = await freePort();
    const run = runFlusher({ DATABASE_URL: databaseUrl, FLUSH_SIGNING_SECRET: SECRET, FLUSHER_PORT: String(port), FLUSHER_GROUP_COMMIT_MS: '10000' });
    try {
      const url = `http://127.0.0.1:${port}`;
      await untilUp(url, run);
      const c = uniq('sigterm');
      const b = batch({ clients: [{ client_name: c, requests: 9, errors: 0, last_seen: iso() }] });
      const answer = post({ url }, b);
      await untilOpenGroup({ url }, 1); // waiting in the 10 s group: only the drain commits it in time
      run.child.kill('SIGTERM');
      expect(await answer).toEqual({ status: 200, json: { batch_id: b.batch_id, status: 'applied' } });
      expect(await run.exited).toBe(0);
      expect((await clientTotals(c)).get(c)?.requests).toBe(9);
      expect(run.output()).not.toContain(SECRET);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
