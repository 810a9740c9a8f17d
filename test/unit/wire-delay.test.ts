/**
 * The local proxy's distance from the database, as pure timing: per-direction lanes that keep order,
 * a compute that resumes after idle, and the wire counts (flights, round trips) per connection.
 */
import { describe, expect, it } from 'vitest';
import { createCompute, createLane } from '../../dev/wire-delay.js';
import { createWireCounter } from '../../dev/wire-count.js';
import { readNeonLike } from '../../dev/neon-like.js';
import { NEON_DROPPED_PARAMS } from '../../dev/startup-packet.js';

describe('lane', () => {
  it('delivers one way later, in order, never before notBefore', () => {
    const lane = createLane(20, 1500);
    expect(lane.due(0)).toBe(1500);
    expect(lane.due(1490)).toBe(1510);
    expect(lane.due(1491)).toBe(1511);
    const plain = createLane(20);
    expect([plain.due(0), plain.due(5), plain.due(100)]).toEqual([20, 25, 120]);
  });

  it('adds nothing at 0 ms', () => {
    expect(createLane(0).due(42)).toBe(42);
  });
});

describe('compute', () => {
  it('starts asleep: the first session waits for the resume, and so do those during it', () => {
    const c = createCompute({ coldStartMs: 1500, idleMs: 10_000 });
    expect(c.open(100)).toBe(1600);
    expect(c.open(900)).toBe(1600);
    expect(c.open(2000)).toBe(2000);
    expect(c.sessions()).toBe(3);
  });

  it('stays awake while sessions come within idleMs of the last one closing', () => {
    const c = createCompute({ coldStartMs: 1500, idleMs: 10_000 });
    c.close(c.open(0));
    expect(c.open(11_499)).toBe(11_499);
    c.close(12_000);
    expect(c.open(21_999)).toBe(21_999);
    c.close(22_000);
    expect(c.open(32_000)).toBe(33_500);
  });

  it('never sleeps while a session is open, and a session closed mid-resume keeps its end', () => {
    const c = createCompute({ coldStartMs: 1000, idleMs: 100 });
    c.open(0);
    expect(c.open(50_000)).toBe(50_000);
    const d = createCompute({ coldStartMs: 1000, idleMs: 100 });
    d.open(0);
    d.close(10);
    expect(d.open(20)).toBe(1000);
  });

  it('never delays without a cold start', () => {
    const c = createCompute({ coldStartMs: 0, idleMs: 0 });
    expect(c.open(7)).toBe(7);
  });
});

describe('wire counter', () => {
  it('counts a pipelined startup as one round trip and the Terminate as an unanswered flight', () => {
    const w = createWireCounter();
    w.client(); // startup + password + query, one message
    w.server();
    w.server(); // the answer in two chunks
    w.client(); // Terminate
    expect(w.counts()).toEqual({ clientMessages: 2, serverChunks: 2, flights: 2, roundTrips: 1 });
  });

  it('counts messages sent back to back as one flight', () => {
    const w = createWireCounter();
    w.client();
    w.client();
    w.server();
    w.client();
    w.server();
    expect(w.counts()).toMatchObject({ flights: 2, roundTrips: 2 });
  });
});

describe('DEV_DB_* vars', () => {
  it('default to Neon-like dropping and no distance', () => {
    expect(readNeonLike({})).toEqual({ ok: true, value: { dropStartupParams: NEON_DROPPED_PARAMS, rttMs: 0, coldStartMs: 0, idleMs: 300_000 } });
  });

  it('read the opt-out and the distances, and name a bad one', () => {
    expect(readNeonLike({ DEV_DB_STARTUP_PARAMS: 'keep', DEV_DB_RTT_MS: '40', DEV_DB_COLD_START_MS: '1500', DEV_DB_IDLE_MS: '2000' })).toEqual({
      ok: true,
      value: { dropStartupParams: [], rttMs: 40, coldStartMs: 1500, idleMs: 2000 },
    });
    expect(readNeonLike({ DEV_DB_STARTUP_PARAMS: 'forward' })).toEqual({ ok: false, message: 'DEV_DB_STARTUP_PARAMS must be drop or keep' });
    expect(readNeonLike({ DEV_DB_RTT_MS: '-1' })).toMatchObject({ ok: false, message: expect.stringMatching(/^DEV_DB_RTT_MS must be/) });
  });
});
