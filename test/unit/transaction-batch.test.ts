import { describe, expect, it } from 'vitest';
import { batchOf, opResults } from '../../worker/gateway/transaction-batch.js';
import type { PlannedOp } from '../../worker/gateway/transaction-plan.js';

const st = (text: string) => ({ text, params: [] });
const op = (id: string, over: Partial<PlannedOp>): PlannedOp => ({
  id,
  kind: 'fetch',
  count: null,
  main: st(`main ${id}`),
  status: 200,
  strip: false,
  hideRows: false,
  ...over,
});

describe('a planned transaction as one batch', () => {
  const planned = [
    op('a', { kind: 'insert', status: 201 }),
    op('b', { count: st('count b') }),
    op('c', { count: st('count c'), hideRows: true }),
    op('d', { kind: 'delete', strip: true }),
  ];

  it('lists every statement in order, each with the operation it belongs to', () => {
    const { statements, owners } = batchOf(planned);
    expect(statements.map((s) => s.text)).toEqual(['main a', 'count b', 'main b', 'count c', 'main c', 'main d']);
    expect(owners).toEqual([0, 1, 1, 2, 2, 3]);
  });

  it('gives each operation its own answers: rows, count first when asked, row counts for writes', () => {
    const answers = [
      { rows: [{ id: 1 }], rowCount: 1 },
      { rows: [{ count: '7' }], rowCount: 1 },
      { rows: [{ id: 2 }, { id: 3 }], rowCount: 2 },
      { rows: [{ count: 4 }], rowCount: 1 },
      { rows: [{ id: 9 }], rowCount: 1 },
      { rows: [{ id: 5, note: null }], rowCount: 3 },
    ];
    expect(opResults(planned, answers)).toEqual([
      { id: 'a', ok: true, status: 201, data: [{ id: 1 }], count: 1 },
      { id: 'b', ok: true, status: 200, data: [{ id: 2 }, { id: 3 }], count: 7 },
      { id: 'c', ok: true, status: 200, data: [], count: 4 },
      { id: 'd', ok: true, status: 200, data: [{ id: 5 }], count: 3 },
    ]);
  });
});
