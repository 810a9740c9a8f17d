import { describe, expect, it } from 'vitest';
import { createSlowAcquireTracker } from '../../worker/admission/slow-acquire.js';
import { manualClock } from './manual-clock.js';

describe('slow-acquire policy', () => {
  it('counts waits above the threshold per target and sums every wait', () => {
    const clock = manualClock(1000);
    const t = createSlowAcquireTracker({ thresholdMs: 100, warnIntervalMs: 10_000, now: clock.now });
    expect(t.record('a', 0)).toEqual({ slow: false, warn: false, suppressed: 0 });
    expect(t.record('a', 100)).toEqual({ slow: false, warn: false, suppressed: 0 }); // not longer than
    expect(t.record('a', 101)).toEqual({ slow: true, warn: true, suppressed: 0 });
    t.record('b', 250);
    expect(t.counts('a')).toEqual({ slowAcquires: 1, acquiresSeen: 3, waitedMsTotal: 201 });
    expect(t.counts('b')).toEqual({ slowAcquires: 1, acquiresSeen: 1, waitedMsTotal: 250 });
    expect(t.counts('never')).toEqual({ slowAcquires: 0, acquiresSeen: 0, waitedMsTotal: 0 });
  });

  it('warns once per target per interval; the next warning carries how many were not logged', () => {
    const clock = manualClock(0);
    const t = createSlowAcquireTracker({ thresholdMs: 50, warnIntervalMs: 10_000, now: clock.now });
    const verdicts = [t.record('a', 60), t.record('a', 70), t.record('a', 80), t.record('b', 90)];
    expect(verdicts.map((v) => v.warn)).toEqual([true, false, false, true]); // b has its own window
    clock.advance(9_999);
    expect(t.record('a', 60).warn).toBe(false);
    clock.advance(1);
    expect(t.record('a', 60)).toEqual({ slow: true, warn: true, suppressed: 3 });
    expect(t.record('a', 60)).toEqual({ slow: true, warn: false, suppressed: 0 });
    expect(t.counts('a').slowAcquires).toBe(6);
  });

  it('is off with a threshold of 0 but still sums waits', () => {
    const t = createSlowAcquireTracker({ thresholdMs: 0, warnIntervalMs: 0, now: () => 0 });
    expect(t.record('a', 5000)).toEqual({ slow: false, warn: false, suppressed: 0 });
    expect(t.counts('a')).toEqual({ slowAcquires: 0, acquiresSeen: 1, waitedMsTotal: 5000 });
  });
});
