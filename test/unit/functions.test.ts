import { describe, expect, it } from 'vitest';
import { render } from '../../drizzle/statement.js';
import { callSource, checkFunctionSchema, describeFunction, pickOverload, type FunctionRow } from '../../worker/gateway/functions.js';
import { canonicalJson } from '../../worker/gateway/request-hash.js';
import { transactionMode } from '../../worker/gateway/transaction-plan.js';
import { beginText, neonBatchOptions } from '../../worker/db/batch.js';

const row = (over: Partial<FunctionRow>): FunctionRow => ({
  schema_name: 'app',
  name: 'f',
  kind: 'f',
  returns_set: false,
  volatility: 'v',
  return_type: 'integer',
  return_typtype: 'b',
  nargdefaults: 0,
  from_extension: false,
  arg_names: [],
  arg_modes: [],
  arg_types: [],
  composite_columns: [],
  composite_types: [],
  ...over,
});

describe('function signatures', () => {
  it('inputs, defaults and result columns from the catalog row', () => {
    const scalar = describeFunction(row({ arg_names: ['a', 'b'], arg_types: ['integer', 'integer'], nargdefaults: 1, volatility: 'i' }));
    expect(scalar).toMatchObject({
      inputs: [
        { name: 'a', hasDefault: false },
        { name: 'b', hasDefault: true },
      ],
      result: [{ name: 'f', type: 'integer' }],
      volatile: false,
    });
    const table = describeFunction(
      row({
        arg_names: ['lbl', 'n', 'label'],
        arg_modes: ['i', 't', 't'],
        arg_types: ['text', 'integer', 'jsonb'],
        return_type: 'record',
        return_typtype: 'p',
      }),
    );
    expect(table.inputs.map((p) => p.name)).toEqual(['lbl']);
    expect(table.result).toEqual([
      { name: 'n', type: 'integer', json: false },
      { name: 'label', type: 'jsonb', json: true },
    ]);
    expect(describeFunction(row({ return_type: 'record', return_typtype: 'p' })).result).toBeNull();
    expect(describeFunction(row({ return_typtype: 'c', return_type: 'app.w', composite_columns: ['n'], composite_types: ['integer'] })).result).toEqual([
      { name: 'n', type: 'integer', json: false },
    ]);
  });

  it('picks the one overload the argument names fit; extensions, procedures and aggregates never', () => {
    const one = row({ arg_names: ['a'], arg_types: ['integer'] });
    const two = row({ arg_names: ['a', 'b'], arg_types: ['integer', 'text'] });
    const picked = pickOverload([one, two], 'app.f', ['a', 'b']);
    expect(picked.ok && picked.value.inputs.length).toBe(2);
    expect(pickOverload([one, row({ arg_names: ['a'], arg_types: ['text'] })], 'app.f', ['a'])).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('several overloads') },
    });
    expect(pickOverload([one], 'app.f', ['z'])).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    for (const hidden of [{ from_extension: true }, { kind: 'p' }, { kind: 'a' }]) {
      expect(pickOverload([row(hidden)], 'app.f', [])).toMatchObject({ ok: false, error: { code: 'unknown_function' } });
    }
  });

  it('binds every argument as a typed parameter; the call text holds only catalog names', () => {
    const fn = describeFunction(row({ name: 'we"ird', arg_names: ['xs', 'meta', 'n'], arg_types: ['integer[]', 'jsonb', 'integer'], nargdefaults: 2 }));
    const call = callSource(fn, { xs: [1, 2], meta: { a: 1 } });
    expect(call.ok && render(call.value)).toEqual({ text: `"app"."we""ird"("xs" => $1::integer[], "meta" => $2::jsonb)`, params: [[1, 2], '{"a":1}'] });
    expect(callSource(fn, { n: [1] })).toMatchObject({ ok: false });
    expect(callSource(fn, { n: { a: 1 } })).toMatchObject({ ok: false });
  });

  it('system and gateway schemas are refused', () => {
    for (const s of ['pg_catalog', 'pg_toast', 'information_schema', 'drizzle']) expect(checkFunctionSchema(s).ok).toBe(false);
    expect(checkFunctionSchema('app').ok).toBe(true);
  });
});

describe('transaction helpers', () => {
  it('BEGIN from options; deferrable needs serializable read only', () => {
    const beginStatement = (o?: Parameters<typeof transactionMode>[0]) => {
      const mode = transactionMode(o);
      return mode.ok ? { ok: true, value: beginText(mode.value) } : mode;
    };
    expect(beginStatement()).toEqual({ ok: true, value: 'BEGIN READ WRITE' });
    expect(beginStatement({ isolation_level: 'repeatable_read' })).toEqual({ ok: true, value: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE' });
    expect(beginStatement({ isolation_level: 'serializable', read_only: true, deferrable: true })).toEqual({
      ok: true,
      value: 'BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE',
    });
    expect(beginStatement({ isolation_level: 'read_committed', read_only: true })).toEqual({
      ok: true,
      value: 'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY',
    });
    expect(beginStatement({ deferrable: true, read_only: true }).ok).toBe(false);
  });

  it("the same options as Neon's HTTP batch headers", () => {
    const neon = (o: Parameters<typeof transactionMode>[0]) => {
      const mode = transactionMode(o);
      return mode.ok ? neonBatchOptions(mode.value) : mode;
    };
    expect(neon({})).toEqual({});
    expect(neon({ isolation_level: 'repeatable_read' })).toEqual({ isolationLevel: 'RepeatableRead' });
    expect(neon({ isolation_level: 'read_committed', read_only: true })).toEqual({ isolationLevel: 'ReadCommitted', readOnly: true });
    expect(neon({ isolation_level: 'serializable', read_only: true, deferrable: true })).toEqual({
      isolationLevel: 'Serializable',
      readOnly: true,
      deferrable: true,
    });
  });

  it('canonical JSON ignores key order, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe(canonicalJson({ a: [2, { c: 'x', d: null }], b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ b: [1, { z: 'é"', a: true }], a: {} })).toBe('{"a":{},"b":[1,{"a":true,"z":"é\\""}]}');
  });

  it('canonical JSON is bounded in depth and size, without recursion: 100,000 arrays deep is refused, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(canonicalJson({ a: deep })).toBeUndefined();
    expect(canonicalJson({ a: deep }, { maxDepth: 200_000, maxNodes: 1_000_000 })).toBe(`{"a":${'['.repeat(100_000)}1${']'.repeat(100_000)}}`);
    expect(
      canonicalJson(
        Array.from({ length: 11 }, () => 0),
        { maxDepth: 10, maxNodes: 10 },
      ),
    ).toBeUndefined();
    expect(
      canonicalJson(
        Array.from({ length: 9 }, () => 0),
        { maxDepth: 10, maxNodes: 10 },
      ),
    ).toBe('[0,0,0,0,0,0,0,0,0]');
  });
});
