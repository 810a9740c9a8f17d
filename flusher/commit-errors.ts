/** How a submitted batch can fail; flusher/app.ts maps each to its HTTP answer. */

/** The group's transaction failed: every batch in it is answered 503 and retried by its worker. */
export class GroupCommitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroupCommitError';
  }
}

/**
 * The database refused this batch's data itself (SQLSTATE class 22 or 23), alone in its own
 * transaction: retrying can never succeed, so it is answered 400 and the worker drops it.
 */
export class BatchRejectedError extends Error {
  constructor(readonly sqlState: string) {
    super(`the database rejected the batch's data (SQLSTATE ${sqlState})`);
    this.name = 'BatchRejectedError';
  }
}

/** Submitted after `drain()` began. */
export class ShuttingDownError extends Error {
  constructor() {
    super('flusher is shutting down');
    this.name = 'ShuttingDownError';
  }
}
