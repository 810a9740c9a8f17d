/** The operator console's pure parts: Prometheus text, sparklines, history rates and the screen. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusDocument } from '../../cli/status/document.js';
import { resolveEndpoints } from '../../cli/status/endpoints.js';
import { createHistory } from '../../cli/status/history.js';
import { histogramQuantile, parsePrometheus, sumOf } from '../../cli/status/prometheus.js';
import type { Reading } from '../../cli/status/read.js';
import { fit } from '../../cli/status/screen.js';
import { sparkline } from '../../cli/status/sparkline.js';
import { renderStatus } from '../../cli/status/view.js';

const METRICS = `# HELP flusher_batches_total Batches
# TYPE flusher_batches_total counter
flusher_batches_total{outcome="applied"} 40
flusher_batches_total{outcome="duplicate"} 2
flusher_batches_rejected_total{reason="bad_signature"} 3
flusher_batches_rejected_total{reason="too_large"} 1
flusher_group_size_batches_count 12
flusher_commit_duration_seconds_bucket{le="0.005"} 50
flusher_commit_duration_seconds_bucket{le="0.01"} 90
flusher_commit_duration_seconds_bucket{le="0.025"} 100
flusher_commit_duration_seconds_bucket{le="+Inf"} 100
flusher_db_errors_total 0
not a sample line
`;

function reading(at: number, over: { served503?: number; acquiresSeen?: number; waitedMsTotal?: number; inUse?: number } = {}): Reading {
  const raw = {
    version: '0.1.0',
    isolate: { uptimeMs: 125_000 },
    budgets: [
      {
        target: '127.0.0.1:5432/catalog',
        size: 8,
        inUse: over.inUse ?? 2,
        waiting: 1,
        timeouts: 4,
        maxWaitMs: 1500,
        slowAcquires: 7,
        acquiresSeen: over.acquiresSeen ?? 10,
        waitedMsTotal: over.waitedMsTotal ?? 100,
      },
    ],
    keyCache: { hits: 99, misses: 1 },
    policyCache: { hits: 0, misses: 0 },
    auth: { directory: { loaded: true, clients: 12, keyPrefixes: 30, complete: true, ageMs: 4_000, loads: 3, failures: 0 } },
    refusals: {
      total: 5 + (over.served503 ?? 0),
      byCode: { invalid_api_key: 5, database_unavailable: over.served503 ?? 0 },
      byStatus: { '401': 5, '503': over.served503 ?? 0 },
    },
    rateLimits: {
      limited: 9,
      limiterUnavailable: 1,
      byClient: { quiet: { limited: 0, blocked: 0 }, acme: { limited: 2, blocked: 0 }, hot: { limited: 6, blocked: 1 } },
    },
    batcher: { sink: 'flusher', pendingKeys: 3, pendingAgeMs: 400, lastFlushAt: at - 800, lastFailureAt: null, lastError: null },
    telemetry: { accepted: 12, dropped: { request: 2, auth_attempt: 1 } },
    settings: { DB_ACQUIRE_SLOW_MS: 100 },
  };
  return { at, raw, status: statusDocument.parse(raw), flusher: { ok: true, samples: parsePrometheus(METRICS) } };
}

describe('prometheus text', () => {
  it('parses samples with labels, sums counters and interpolates histogram quantiles', () => {
    const samples = parsePrometheus(METRICS);
    expect(samples).toHaveLength(10);
    expect(sumOf(samples, 'flusher_batches_rejected_total')).toBe(4);
    expect(samples[0]).toEqual({ name: 'flusher_batches_total', labels: { outcome: 'applied' }, value: 40 });
    // rank 99 of 100 lies in (0.01, 0.025]: 90 below, 10 inside → 0.01 + 0.015 * 9/10
    expect(histogramQuantile(samples, 'flusher_commit_duration_seconds', 0.99)).toBeCloseTo(0.0235, 6);
    expect(histogramQuantile(samples, 'flusher_commit_duration_seconds', 0.5)).toBeCloseTo(0.005, 6);
    expect(histogramQuantile([], 'flusher_commit_duration_seconds', 0.99)).toBeNull();
  });
});

describe('sparkline', () => {
  it('scales to the peak, keeps the last width values and pads short series', () => {
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe('▁▂▃▅█');
    expect(sparkline([0, 0, 0], 3)).toBe('▁▁▁');
    expect(sparkline([9, 1, 1], 2)).toBe('██');
    expect(sparkline([5], 4)).toBe('   █');
  });
});

describe('history', () => {
  it('turns counters of consecutive readings into 503s per second and mean wait per second', () => {
    const h = createHistory(3);
    h.push(reading(0));
    h.push(reading(2000, { served503: 10, acquiresSeen: 14, waitedMsTotal: 300 }));
    h.push(reading(3000, { served503: 10, acquiresSeen: 14, waitedMsTotal: 300 }));
    expect(h.series.rate503).toEqual([5, 0]);
    expect(h.series.waitMs.get('127.0.0.1:5432/catalog')).toEqual([50, 0]);
    h.push(reading(4000, { served503: 0 })); // a fresh isolate: counters went down
    h.push(reading(5000, { served503: 3 }));
    expect(h.series.rate503).toEqual([0, 0, 3]); // last three only
  });
});

describe('status screen', () => {
  it('shows budgets, caches, refusals, batcher, telemetry and the flusher in one table', () => {
    const lines = renderStatus(reading(Date.parse('2026-01-01T10:00:00Z')), { now: Date.parse('2026-01-01T10:00:00Z'), workerUrl: 'http://w' });
    const text = lines.join('\n');
    expect(lines[0]).toBe('gateway http://w  v0.1.0  isolate up 2m05s  at 10:00:00');
    expect(text).toMatch(/TARGET\s+IN USE\s+WAITING\s+TIMEOUTS\s+LONGEST WAIT\s+SLOW >100ms\n127\.0\.0\.1:5432\/catalog\s+2\/8\s+1\s+4\s+1\.5s\s+7/);
    expect(text).toContain('caches     keys 99.0% hit (99/100), directory 12 clients, age 4s, 3 loads');
    expect(text).not.toContain('policies by name'); // none were loaded by name
    expect(text).toContain('refusals   5: invalid_api_key 5, database_unavailable 0');
    expect(text).toContain('rate limit 9 refused: hot 7, acme 2; limiter unavailable 1');
    expect(text).toContain('batcher    flusher sink: 3 pending rows, oldest 400ms; last flush ok 800ms ago');
    expect(text).toContain('telemetry  accepted 12, dropped 3');
    expect(text).toContain('flusher    12 groups (42 batches), commit p99 24ms, rejected 4, db errors 0');
    expect(text).not.toMatch(/undefined|NaN|503\/s/);
  });

  it('shows permits still ending after their lease, and the timeouts each server last reported (in force or not)', () => {
    const base = reading(Date.parse('2026-01-01T10:00:00Z'));
    const raw = {
      ...(base.raw as Record<string, unknown>),
      budgets: [{ target: '127.0.0.1:5432/catalog', size: 8, inUse: 3, reclaiming: 1, waiting: 0, timeouts: 0, maxWaitMs: 0, slowAcquires: 0 }],
      serverTimeouts: [
        { target: '127.0.0.1:5432/catalog', statementTimeoutMs: 5000, lockTimeoutMs: 5000, expectedMs: 5000, inForce: true, checkedAt: 'x' },
        { target: 'pooler:5432/app', statementTimeoutMs: 0, lockTimeoutMs: 0, expectedMs: 5000, inForce: false, checkedAt: 'x' },
      ],
    };
    const text = renderStatus({ ...base, raw, status: statusDocument.parse(raw) }, { now: base.at, workerUrl: 'http://w' }).join('\n');
    expect(text).toMatch(/127\.0\.0\.1:5432\/catalog\s+3\/8 \(1 ending\)/);
    expect(text).toContain('timeouts   127.0.0.1:5432/catalog: statement 5000 ms, lock 5000 ms\n');
    expect(text).toContain('timeouts   pooler:5432/app: statement 0 ms, lock 0 ms NOT IN FORCE');
  });

  it('adds sparklines when watching, says when the flusher is down, and fits lines to the terminal', () => {
    const h = createHistory();
    h.push(reading(0));
    h.push(reading(1000, { served503: 4, acquiresSeen: 12, waitedMsTotal: 300 }));
    const down: Reading = { ...reading(1000, { served503: 4 }), flusher: { ok: false, problem: 'flusher http://f/ is unreachable (ECONNREFUSED)' } };
    const text = renderStatus(down, { now: 1000, workerUrl: 'http://w', series: h.series, sparkWidth: 4 }).join('\n');
    expect(text).toMatch(/MEAN WAIT \/s\n.*  █ 100ms/);
    expect(text).toContain('503/s         █ 4.0');
    expect(text).toContain('flusher    DOWN: flusher http://f/ is unreachable (ECONNREFUSED)');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abc', 4)).toBe('abc');
  });
});

describe('endpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-endpoints-'));
  writeFileSync(join(dir, 'stack.json'), JSON.stringify({ workerUrl: 'http://127.0.0.1:8787', adminToken: 'dev-token', flusherUrl: 'http://127.0.0.1:8788' }));
  const env = { DEV_STATE_DIR: dir };

  it('reads the dev stack by default; flags and env vars win; an explicit worker drops the stack flusher', () => {
    expect(resolveEndpoints({}, env, '/')).toEqual({ workerUrl: 'http://127.0.0.1:8787', token: 'dev-token', flusherUrl: 'http://127.0.0.1:8788' });
    expect(resolveEndpoints({ url: 'https://gw.example/', token: 't' }, env, '/')).toEqual({ workerUrl: 'https://gw.example', token: 't', flusherUrl: null });
    expect(resolveEndpoints({}, { ...env, GATEWAY_URL: 'https://gw.example', ADMIN_TOKEN: 'e', FLUSHER_URL: 'https://f.example' }, '/')).toEqual({
      workerUrl: 'https://gw.example',
      token: 'e',
      flusherUrl: 'https://f.example',
    });
  });

  it('names what is missing or malformed', () => {
    expect(() => resolveEndpoints({}, { DEV_STATE_DIR: join(dir, 'none') }, '/')).toThrow(/start `npm run dev`, or pass --url and --token/);
    expect(() => resolveEndpoints({ url: 'http://x' }, { DEV_STATE_DIR: join(dir, 'none') }, '/')).toThrow(/no admin token/);
    expect(() => resolveEndpoints({ url: 'ftp://x', token: 't' }, env, '/')).toThrow(/--url: must be an http\(s\) URL/);
    expect(() => resolveEndpoints({ flusherUrl: 'nope' }, env, '/')).toThrow(/--flusher-url: must be an http\(s\) URL/);
  });
});
