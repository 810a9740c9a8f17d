/**
 * A planned transaction as one batch and back: its operations' statements in order (each
 * remembering its operation), and the per-operation results from the batch's answers. Pure.
 */
import type { Statement } from '../../drizzle/statement.js';
import type { BatchResult } from '../db/batch.js';
import { stripNulls, toCount } from './shape.js';
import type { PlannedOp } from './transaction-plan.js';

export type OpResult = { id: string; ok: true; status: number; data: Record<string, unknown>[]; count: number | null };

/** Every statement of `planned` in order, and for each the index of the operation it belongs to. */
export function batchOf(planned: readonly PlannedOp[]): { statements: Statement[]; owners: number[] } {
  const statements: Statement[] = [];
  const owners: number[] = [];
  for (const [i, op] of planned.entries()) {
    for (const st of [op.count, op.main]) {
      if (!st) continue;
      statements.push(st);
      owners.push(i);
    }
  }
  return { statements, owners };
}

/** One operation's result from its statements' answers (`count` first when asked, then `main`). */
export function opResult(op: PlannedOp, answers: readonly BatchResult[]): OpResult {
  let k = 0;
  const count = op.count ? toCount(answers[k++]?.rows[0]?.count) : null;
  const res = op.main ? (answers[k] ?? { rows: [], rowCount: null }) : { rows: [], rowCount: null };
  const rows = op.hideRows ? [] : res.rows;
  return {
    id: op.id,
    ok: true,
    status: op.status,
    data: op.strip ? stripNulls(rows) : rows,
    count: op.kind === 'fetch' ? count : (res.rowCount ?? res.rows.length),
  };
}

/** Every operation's result from the batch's answers, in order. */
export function opResults(planned: readonly PlannedOp[], answers: readonly BatchResult[]): OpResult[] {
  const { owners } = batchOf(planned);
  return planned.map((op, i) =>
    opResult(
      op,
      answers.filter((_, j) => owners[j] === i),
    ),
  );
}
