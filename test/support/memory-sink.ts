/**
 * An in-memory sink for tests of the flush loop: records what it is sent, applies each batch id
 * once (like the ledger), and can be told to fail the next sends.
 */
import type { Batch } from '../../drizzle/batch.js';
import type { SinkResult, CountersSink } from '../../worker/counters/sink.js';

export class MemorySink implements CountersSink {
  readonly kind = 'memory';
  /** Every send, in order, including failed and duplicate ones. */
  readonly sent: Batch[] = [];
  /** Batches applied, once per id. */
  readonly applied: Batch[] = [];
  private readonly failures: Array<'unavailable' | 'rejected'> = [];

  /** The next `times` sends fail with `kind`, after which sends succeed again. */
  failNext(times: number, kind: 'unavailable' | 'rejected' = 'unavailable'): void {
    for (let i = 0; i < times; i++) this.failures.push(kind);
  }

  async send(batch: Batch): Promise<SinkResult> {
    this.sent.push(structuredClone(batch));
    const failure = this.failures.shift();
    if (failure) return { ok: false, kind: failure, message: `memory sink told to fail (${failure})` };
    if (this.applied.some((b) => b.batch_id === batch.batch_id)) return { ok: true, status: 'duplicate' };
    this.applied.push(structuredClone(batch));
    return { ok: true, status: 'applied' };
  }
}
