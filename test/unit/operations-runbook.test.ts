/**
 * docs/operations.md matches the code: every var it names exists, every 503 code has a section, and
 * the `telemetry_dropped` example carries exactly the fields the limiter's warning logs.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSettings } from '../../worker/config.js';
import { STATUS } from '../../worker/errors.js';
import { createServices, type Isolate } from '../../worker/isolate.js';
import { runTelemetryTask } from '../../worker/telemetry/task.js';
import { noteAcquire } from '../../worker/admission/slow-acquire-log.js';
import { targetOf } from '../../worker/db/target.js';

const runbook = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const flusherConfig = readFileSync(new URL('../../flusher/config.ts', import.meta.url), 'utf8');
const backticked = [...runbook.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');

afterEach(() => vi.restoreAllMocks());

describe('operations runbook', () => {
  it('names only vars the worker or the flusher reads', () => {
    const parsed = parseSettings({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' });
    if (!parsed.ok) throw new Error('default settings must parse');
    const workerVars = new Set(Object.keys(parsed.settings));
    const named = new Set(backticked.filter((t) => /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(t)));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) {
      expect(workerVars.has(name) || flusherConfig.includes(`${name}:`), `${name} is not a var`).toBe(true);
    }
    for (const name of ['LOG_TASK_LIMIT', 'REQUEST_LOG', 'LOG_ACQUIRE_TIMEOUT_MS', 'LOG_DROP_WARN_INTERVAL_MS', 'ADMIN_TOKEN']) {
      expect(named.has(name), `${name} is not documented`).toBe(true);
    }
  });

  it('has a section for every 503 error code', () => {
    const codes = Object.entries(STATUS)
      .filter(([, status]) => status === 503)
      .map(([code]) => code);
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(runbook).toMatch(new RegExp(`### .*\`${code}\``));
  });

  it('shows the telemetry_dropped warning with the fields the limiter logs', async () => {
    const example = /```json\n(\{"level":"warn","event":"telemetry_dropped"[\s\S]*?)\n```/.exec(runbook)?.[1];
    expect(example).toBeDefined();
    const documented = Object.keys(JSON.parse(example ?? '{}') as object);

    // A real drop: limit 1, the first task holds the permit (its DB is unreachable), the second is dropped.
    const parsed = parseSettings({ DATABASE_URL: 'postgres://u@127.0.0.1:1/db', LOG_TASK_LIMIT: '1' });
    if (!parsed.ok) throw new Error('settings must parse');
    const isolate: Isolate = { settings: parsed.settings, startedAt: Date.now(), services: createServices(parsed.settings) };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const pending: Promise<unknown>[] = [];
    const ctx = { isolate, waitUntil: (p: Promise<unknown>) => void pending.push(p) };
    const event = { kind: 'admission', requestId: null, target: 't', purpose: 'auth', waitedMs: 1, inUse: 1, waiting: 0 } as const;
    runTelemetryTask(ctx, [event]);
    runTelemetryTask(ctx, [event]);
    await Promise.all(pending);

    const lines = warn.mock.calls.map(([l]) => JSON.parse(String(l)) as Record<string, unknown>);
    const line = lines.find((l) => l.event === 'telemetry_dropped');
    expect(line).toBeDefined();
    const logged = Object.keys(line ?? {});
    // `lastFailure` appears only when a write failed; everything else always.
    expect(documented.filter((k) => k !== 'lastFailure' && k !== 'ts').sort()).toEqual(logged.filter((k) => k !== 'ts').sort());
    expect(documented).toContain('lastFailure');
    expect(String(line?.message)).toMatch(/^Telemetry dropped: 1 event\(s\) in the last \d+ ms$/);
  });

  it('shows the db_acquire_slow warning with the fields a slow acquire logs', () => {
    const example = /```json\n(\{"level":"warn","event":"db_acquire_slow"[\s\S]*?)\n```/.exec(runbook)?.[1];
    expect(example).toBeDefined();
    const documented = Object.keys(JSON.parse(example ?? '{}') as object);
    const parsed = parseSettings({ DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/db', DB_ACQUIRE_SLOW_MS: '100' });
    if (!parsed.ok) throw new Error('settings must parse');
    const tracker = createServices(parsed.settings).slowAcquire;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const budget = { snapshot: () => ({ inUse: 8, waiting: 5 }) };
    const thresholdMs = parsed.settings.DB_ACQUIRE_SLOW_MS;
    noteAcquire({ tracker, thresholdMs, requestId: 'r-1' }, targetOf(parsed.settings.DATABASE_URL), 'auth', 100, budget); // not slow
    noteAcquire({ tracker, thresholdMs, requestId: 'r-2' }, targetOf(parsed.settings.DATABASE_URL), 'auth', 240, budget);
    const lines = warn.mock.calls.map(([l]) => JSON.parse(String(l)) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: 'db_acquire_slow',
      requestId: 'r-2',
      target: '127.0.0.1:1/db',
      purpose: 'auth',
      waitedMs: 240,
      thresholdMs: 100,
      inUse: 8,
      waiting: 5,
      notLoggedSinceLast: 0,
    });
    expect(documented.filter((k) => k !== 'ts').sort()).toEqual(
      Object.keys(lines[0] ?? {})
        .filter((k) => k !== 'ts')
        .sort(),
    );
  });
});
