/** The fair share of the auth budget: the per-client cap and the gate that enforces it. */
import { describe, expect, it } from 'vitest';
import { createShareGate, OTHER_OWNER, shareCap } from '../../worker/auth/fair-share.js';

describe('fair share', () => {
  it('caps a client at floor(permits × share), at least 1, never every permit of a budget of two or more', () => {
    expect(shareCap(8, 0.5)).toBe(4);
    expect(shareCap(2, 0.5)).toBe(1);
    expect(shareCap(1, 0.5)).toBe(1);
    expect(shareCap(8, 1)).toBe(7);
    expect(shareCap(3, 0.1)).toBe(1);
  });

  it('admits up to the cap per owner, frees a slot on leave, counts refusals it is told of', () => {
    const gate = createShareGate({ cap: 2, maxOwners: 10 });
    expect([gate.tryEnter('a'), gate.tryEnter('a'), gate.tryEnter('a'), gate.tryEnter('b')]).toEqual([true, true, false, true]);
    gate.refused('a');
    expect(gate.snapshot()).toEqual({ a: { inFlight: 2, refusedByShare: 1 }, b: { inFlight: 1, refusedByShare: 0 } });
    gate.leave('a');
    expect(gate.tryEnter('a')).toBe(true);
    gate.enter('a'); // a refresh: counted even beyond the cap
    expect(gate.snapshot().a).toEqual({ inFlight: 3, refusedByShare: 1 });
  });

  it('bounds its memory: owners beyond the bound share one row', () => {
    const gate = createShareGate({ cap: 1, maxOwners: 2 });
    for (const o of ['a', 'b', 'c', 'd']) gate.tryEnter(o);
    expect(Object.keys(gate.snapshot()).sort()).toEqual([OTHER_OWNER, 'a', 'b'].sort());
  });
});
