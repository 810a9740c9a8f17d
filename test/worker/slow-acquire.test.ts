/**
 * Slow acquires and refusals as an operator sees them: permit waits above DB_ACQUIRE_SLOW_MS are
 * counted per target in `/__gateway/status` and logged as one rate-limited `db_acquire_slow`
 * warning; refused requests are counted by error code and status.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import app from '../../worker/index.js';
import { baseEnv, databaseUrl, fetchWith } from './harness.js';
import { TEST_ADMIN_TOKEN } from '../support/admin-token.js';

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

type TargetRow = { target: string; size: number; acquired: number; slowAcquires: number; acquiresSeen: number; waitedMsTotal: number };
type StatusBody = { budgets: TargetRow[]; refusals: { total: number; byCode: Record<string, number>; byStatus: Record<string, number> } };

describe('slow acquires', () => {
  it('counts waits above DB_ACQUIRE_SLOW_MS per target and warns once per interval with target, purpose, wait, in use and waiting', async () => {
    const vars = { DB_POOL_MAX: '1', DB_ACQUIRE_SLOW_MS: '1', DB_ACQUIRE_TIMEOUT_MS: '15000', TEST_ISOLATE: `slow-${crypto.randomUUID()}` };
    const warn = vi.spyOn(console, 'warn');
    try {
      // One permit, six concurrent readiness checks: five queue behind a whole session each (a long
      // acquire timeout: on a loaded machine the sixth may wait over the default second).
      const contexts = Array.from({ length: 6 }, () => createExecutionContext());
      const responses = await Promise.all(
        contexts.map((ctx) => app.fetch(new Request('http://gateway/__gateway/ready', { headers: auth }), { ...baseEnv, ...vars }, ctx)),
      );
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
      expect(responses.map((r) => r.status)).toEqual(Array<number>(6).fill(200));

      const res = await fetchWith(vars, 'http://gateway/__gateway/status', { headers: auth });
      const body = (await res.json()) as StatusBody;
      const catalog = new URL(databaseUrl);
      const row = body.budgets.find((b) => b.target === `127.0.0.1:${catalog.port}${catalog.pathname}`);
      expect(row).toMatchObject({ size: 1, acquired: 6, acquiresSeen: 6 });
      expect(row?.slowAcquires).toBeGreaterThanOrEqual(3);
      expect(row?.waitedMsTotal).toBeGreaterThan(row?.slowAcquires ?? 0);

      const lines = warn.mock.calls
        .map(([line]) => (typeof line === 'string' ? (JSON.parse(line) as Record<string, unknown>) : {}))
        .filter((l) => l.event === 'db_acquire_slow' && l.target === row?.target); // ready also checks the tenant target
      expect(lines).toHaveLength(1); // rate-limited: one line although several were slow
      expect(lines[0]).toMatchObject({ level: 'warn', target: row?.target, purpose: 'ready', thresholdMs: 1, inUse: 1, notLoggedSinceLast: 0 });
      expect(lines[0]?.waitedMs).toBeGreaterThan(1);
      expect(lines[0]?.waiting).toEqual(expect.any(Number));
      expect(JSON.stringify(lines)).not.toMatch(/postgres:\/\//);
    } finally {
      warn.mockRestore();
    }
  });

  it('stays silent below the threshold (the default 100 ms for a lone request)', async () => {
    const vars = { TEST_ISOLATE: `fast-${crypto.randomUUID()}` };
    const warn = vi.spyOn(console, 'warn');
    try {
      expect((await fetchWith(vars, 'http://gateway/__gateway/ready', { headers: auth })).status).toBe(200);
      const body = (await (await fetchWith(vars, 'http://gateway/__gateway/status', { headers: auth })).json()) as StatusBody;
      expect(body.budgets[0]).toMatchObject({ slowAcquires: 0, acquiresSeen: 1 });
      expect(warn.mock.calls.filter(([l]) => typeof l === 'string' && l.includes('db_acquire_slow'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('refusals', () => {
  it('counts refused requests by error code and by status', async () => {
    const vars = { TEST_ISOLATE: `refusals-${crypto.randomUUID()}` };
    expect((await fetchWith(vars, 'http://gateway/nowhere')).status).toBe(404);
    expect((await fetchWith(vars, 'http://gateway/__gateway/status')).status).toBe(401);
    expect((await fetchWith(vars, 'http://gateway/__gateway/status', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const body = (await (await fetchWith(vars, 'http://gateway/__gateway/status', { headers: auth })).json()) as StatusBody;
    expect(body.refusals).toEqual({ total: 3, byCode: { not_found: 1, unauthorized: 2 }, byStatus: { '404': 1, '401': 2 } });
  });
});
