/**
 * A batch: statements planned before any runs, applied as one transaction. Over WebSocket it is
 * BEGIN, each statement, COMMIT on the session; over HTTP it is one request (the driver's
 * `transaction()`), so the whole transaction costs one round trip. Transport-neutral: callers say
 * what the transaction is, never how it travels.
 */
import type { Statement } from '../../drizzle/statement.js';

/** What the transaction is: the options Postgres' BEGIN takes. */
export type TransactionMode = {
  isolationLevel?: 'read_committed' | 'repeatable_read' | 'serializable' | undefined;
  readOnly?: boolean | undefined;
  /** Only means something for SERIALIZABLE READ ONLY. */
  deferrable?: boolean | undefined;
};

export type BatchResult = { rows: Record<string, unknown>[]; rowCount: number | null };

export type Batch = { statements: readonly Statement[]; mode?: TransactionMode | undefined };

/**
 * A statement of a batch failed and the transaction was rolled back. `index` is the statement's
 * position when the transport tells it (WebSocket), null when it does not (Neon's HTTP answer is
 * the error alone); `cause` is the driver's error with its SQLSTATE and fields.
 */
export class BatchStatementError extends Error {
  constructor(
    readonly index: number | null,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'BatchStatementError';
  }
}

/** `BEGIN …` for a mode (the WebSocket path sends it as its own statement). */
export function beginText(mode: TransactionMode = {}): string {
  const parts = ['BEGIN'];
  if (mode.isolationLevel) parts.push(`ISOLATION LEVEL ${mode.isolationLevel.replace('_', ' ').toUpperCase()}`);
  parts.push(mode.readOnly ? 'READ ONLY' : 'READ WRITE');
  if (mode.deferrable) parts.push('DEFERRABLE');
  return parts.join(' ');
}

/** Neon's HTTP batch headers name isolation levels in their own spelling. */
const NEON_ISOLATION = { read_committed: 'ReadCommitted', repeatable_read: 'RepeatableRead', serializable: 'Serializable' } as const;

/** The driver's `transaction()` options for a mode (only what the mode sets: the rest is Postgres' default). */
export function neonBatchOptions(mode: TransactionMode = {}): {
  isolationLevel?: (typeof NEON_ISOLATION)[keyof typeof NEON_ISOLATION];
  readOnly?: boolean;
  deferrable?: boolean;
} {
  return {
    ...(mode.isolationLevel ? { isolationLevel: NEON_ISOLATION[mode.isolationLevel] } : {}),
    ...(mode.readOnly ? { readOnly: true } : {}),
    ...(mode.deferrable ? { deferrable: true } : {}),
  };
}
