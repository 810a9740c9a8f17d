import { describe, expect, it } from 'vitest';
import { createRestartPolicy } from '../../dev/restart-policy.js';

describe('restart policy', () => {
  const options = { maxRestarts: 3, baseDelayMs: 1000, maxDelayMs: 3000, stableMs: 60_000 };

  it('restarts a few times with doubling delays (capped), then gives up', () => {
    const p = createRestartPolicy(options);
    p.started(0);
    const decisions = [];
    for (let t = 1000; t <= 4000; t += 1000) {
      decisions.push(p.exited(t));
      p.started(t + 500);
    }
    expect(decisions).toEqual([
      { restart: true, attempt: 1, delayMs: 1000 },
      { restart: true, attempt: 2, delayMs: 2000 },
      { restart: true, attempt: 3, delayMs: 3000 },
      { restart: false, restarts: 3 },
    ]);
  });

  it('counts afresh after a run that stayed up for stableMs', () => {
    const p = createRestartPolicy({ ...options, maxRestarts: 1 });
    p.started(0);
    expect(p.exited(10)).toMatchObject({ restart: true, attempt: 1 });
    p.started(1000);
    expect(p.exited(1000 + 59_999)).toEqual({ restart: false, restarts: 1 });
    const q = createRestartPolicy({ ...options, maxRestarts: 1 });
    q.started(0);
    q.exited(10);
    q.started(1000);
    expect(q.exited(1000 + 60_000)).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
  });
});
