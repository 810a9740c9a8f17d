/** When a permit wait is extended: only while connects are pending on a target that has not failed one lately. */
import { describe, expect, it } from 'vitest';
import { createConnectWatch } from '../../worker/admission/resume-wait.js';

const CONNECT = 2000;
const ACQUIRE = 1000;

describe('connect watch', () => {
  it('extends a refused wait to the oldest pending connect deadline plus one acquire timeout', () => {
    const w = createConnectWatch();
    w.begin(0);
    w.begin(300);
    expect(w.extensionMs(1000, CONNECT, ACQUIRE)).toBe(2000);
  });

  it('gives nothing when no connect is pending (slow queries hold the permits) or the oldest is past its deadline', () => {
    const w = createConnectWatch();
    expect(w.extensionMs(1000, CONNECT, ACQUIRE)).toBe(0);
    const done = w.begin(0);
    done('connected', 40);
    expect(w.extensionMs(1000, CONNECT, ACQUIRE)).toBe(0);
    w.begin(100);
    expect(w.extensionMs(2100, CONNECT, ACQUIRE)).toBe(0);
  });

  it('gives nothing for connect timeouts after a connect failed on the target (dead, not resuming)', () => {
    const w = createConnectWatch();
    w.begin(0)('failed', 500);
    w.begin(600);
    expect(w.extensionMs(1000, CONNECT, ACQUIRE)).toBe(0);
    expect(w.extensionMs(2499, CONNECT, ACQUIRE)).toBe(0);
    expect(w.extensionMs(2500, CONNECT, ACQUIRE)).toBe(1100);
  });

  it('ends a connect once; a later outcome of the same session changes nothing', () => {
    const w = createConnectWatch();
    const done = w.begin(0);
    done('connected', 10);
    done('failed', 20);
    w.begin(30);
    expect(w.extensionMs(1000, CONNECT, ACQUIRE)).toBe(2030);
    const never = createConnectWatch();
    never.begin(0)(undefined, 5);
    expect(never.extensionMs(1000, CONNECT, ACQUIRE)).toBe(0);
  });

  it('knows when the target last answered: a session that ended without asking, or failed, is no answer', () => {
    const w = createConnectWatch();
    expect(w.answeredWithin(0, 60_000)).toBe(false); // never heard from: may be asleep
    w.begin(0)(undefined, 10);
    w.begin(0)('failed', 20);
    expect(w.answeredWithin(30, 60_000)).toBe(false);
    w.begin(100)('connected', 140);
    expect(w.answeredWithin(60_140, 60_000)).toBe(true);
    expect(w.answeredWithin(60_141, 60_000)).toBe(false);
  });
});
