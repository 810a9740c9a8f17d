import { describe, expect, it } from 'vitest';
import { envelope, stripNulls } from '../../worker/gateway/shape.js';

describe('stripNulls / envelope', () => {
  it('drops null keys at the top level only; rows without a null are passed on untouched', () => {
    const full = { id: 1, name: 'a', tags: [null, 'x'], meta: { gone: null } };
    const sparse = { id: 2, name: null, note: 'n', extra: null };
    const out = stripNulls([full, sparse]);
    expect(out).toEqual([full, { id: 2, note: 'n' }]);
    expect(out[0]).toBe(full);
    expect(sparse).toEqual({ id: 2, name: null, note: 'n', extra: null }); // the input row is not changed
    expect(JSON.stringify(out[1])).toBe('{"id":2,"note":"n"}'); // key order kept
  });

  it('envelope strips only when asked and keeps the count', () => {
    const rows = [{ id: 1, v: null }];
    expect(envelope(rows, 3, true)).toEqual({ data: [{ id: 1 }], count: 3 });
    expect(envelope(rows, null, false)).toEqual({ data: [{ id: 1, v: null }], count: null });
  });
});
