/**
 * The limiter's bound inside workerd: 200 concurrent requests, each with a request-log task, never
 * have more than LOG_TASK_LIMIT tasks in flight; every event is either written or counted dropped.
 */
import { describe, expect, it } from 'vitest';
import { isolateFor } from '../../worker/isolate.js';
import { telemetrySnapshot } from '../../worker/telemetry/task.js';
import { baseEnv, fetchWith } from './harness.js';
import { sql } from './seed.js';

const REQUESTS = 200;
const LIMIT = 2;

describe('telemetry limiter under 200 concurrent requests', () => {
  it('never exceeds its size, and written + dropped accounts for every request exactly', async () => {
    const vars = { REQUEST_LOG: 'all', LOG_TASK_LIMIT: String(LIMIT), TEST_ISOLATE: 'limit-200' };
    const run = crypto.randomUUID();
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => fetchWith(vars, 'http://gateway/health', { headers: { 'x-request-id': `lim-${run}-${i}` } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: REQUESTS }, () => 200));

    const entry = isolateFor({ ...baseEnv, ...vars });
    if (!entry.ok) throw new Error('bad vars');
    const snap = telemetrySnapshot(entry.isolate.services.telemetry);
    expect(snap.limit).toBe(LIMIT);
    // All 200 start in one tick, so the limiter saturates — and never goes past its size.
    expect(snap.maxInFlight).toBe(LIMIT);
    expect(snap.inFlight).toBe(0);
    expect(snap.leaked).toBe(0);
    expect(snap.dropped.request).toBeGreaterThan(0);
    expect(snap.written.request + snap.dropped.request).toBe(REQUESTS);
    expect(snap.accepted).toBe(snap.written.request + snap.droppedByReason.unavailable + snap.droppedByReason.failed);

    const rows = await sql<{ n: number }>('SELECT count(*)::int AS n FROM gateway_request_log WHERE request_id LIKE $1', [`lim-${run}-%`]);
    expect(rows[0]?.n).toBe(snap.written.request);
  });
});
