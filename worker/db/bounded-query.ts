/**
 * Statements the server itself bounds, whatever sits between us and it. Neon's proxy and
 * transaction-mode poolers drop `statement_timeout`/`lock_timeout` sent as startup parameters, and a
 * session-level `SET` would not survive a transaction-mode pooler either. So every statement carries
 * its own, in the same batch as the statement:
 *
 *   Parse/Bind/Execute  SELECT set_config('statement_timeout', …, true), set_config('lock_timeout', …, true), …
 *   Parse/Bind/Describe/Execute  <the statement>
 *   Sync
 *
 * (or, without parameters, one simple Query message `SELECT set_config(…); <the statement>`).
 * Everything before one Sync, like one Query message, is one transaction on one backend (implicit,
 * or the caller's open BEGIN), so the settings are local to exactly that transaction, no pooler can split them from the
 * statement, and they leave in the same flight as the statement: no extra round trip. `set_config`
 * with `is_local` rather than `SET LOCAL`, which warns outside an explicit BEGIN. See
 * docs/architecture.md "Server-side timeouts".
 */

/** The server-side bounds of one statement, in milliseconds (each ≥ 1: 0 would mean "no limit"). */
export type StatementBounds = { statementTimeoutMs: number; lockTimeoutMs: number };

/**
 * While a statement runs, the backend polls its client socket this often and ends itself when the
 * socket is gone, so a request that closed its connection mid-statement leaves no backend behind
 * (even one waiting on a lock, which otherwise never reads its socket). Postgres 14 and later.
 */
export const CLIENT_CHECK_INTERVAL_MS = 1000;

/**
 * Statements run as sent. Transaction control: in a failed transaction any other statement is
 * refused, and `BEGIN ISOLATION LEVEL` must come first (the open transaction's bounds still hold
 * for `COMMIT`). And the few Postgres refuses inside any transaction (tests and tools create
 * databases; the gateway's own statements never are one of these).
 */
const CONTROL = /^\s*(begin|start|commit|rollback|end|abort|vacuum|alter\s+system|(create|drop)\s+database)\b/i;

/** Whether `text` is sent without bounds of its own. */
export const isControl = (text: string): boolean => CONTROL.test(text);

const ms = (n: number): string => String(Math.max(1, Math.ceil(n)));

/** The statement that puts `b` in force until the end of the current transaction. */
export function boundsStatement(b: StatementBounds): string {
  return (
    `SELECT pg_catalog.set_config('statement_timeout', '${ms(b.statementTimeoutMs)}', true), pg_catalog.set_config('lock_timeout', '${ms(b.lockTimeoutMs)}', true), ` +
    `pg_catalog.set_config('client_connection_check_interval', '${CLIENT_CHECK_INTERVAL_MS}', true)`
  );
}

/** What the driver's connection offers a submitted query (the calls made here). */
type Wire = {
  query(text: string): void;
  parse(m: { text: string }): void;
  bind(m: Record<string, never>): void;
  execute(m: Record<string, never>): void;
};

/** The driver's own query object: parses rows with the client's type parsers; `prepare` writes Parse…Sync. */
export type DriverQuery = {
  readonly text: string;
  readonly values?: unknown[] | undefined;
  _result?: unknown;
  prepare(conn: Wire): void;
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, conn: Wire): void;
  handleEmptyQuery(conn: Wire): void;
  handleError(err: unknown, conn: Wire): void;
  handleReadyForQuery(conn: Wire): void;
  handlePortalSuspended(conn: Wire): void;
  handleCopyInResponse(conn: Wire): void;
  handleCopyData(msg: unknown, conn: Wire): void;
};

/**
 * A submittable (the driver's interface for custom queries) that writes the bounds statement
 * ahead of `inner` in the same batch and hides its answer (its row and command tag) from `inner`.
 * With parameters: Parse/Bind/Execute of the bounds, then `inner`'s own Parse…Sync. Without: one
 * simple Query message `<bounds>; <text>`, which Postgres also runs as one transaction.
 */
export class BoundedQuery {
  /** Answers still due to the bounds statement: its command tag ends them. */
  private prefixPending = true;

  constructor(
    private readonly inner: DriverQuery,
    private readonly bounds: StatementBounds,
  ) {}

  /** Lets the client hand its type parsers to the inner result, as it does for its own queries. */
  get _result(): unknown {
    return this.inner._result;
  }

  submit(conn: Wire): null {
    if (!this.inner.values?.length) {
      // No parameters: the simple protocol, as the driver would; one Query message is one
      // transaction too (several statements in it included), and the bounds hold from the next statement on.
      conn.query(`${boundsStatement(this.bounds)};\n${this.inner.text}`);
      return null;
    }
    conn.parse({ text: boundsStatement(this.bounds) });
    conn.bind({});
    conn.execute({});
    this.inner.prepare(conn);
    return null;
  }

  handleRowDescription(msg: unknown): void {
    if (!this.prefixPending) this.inner.handleRowDescription(msg);
  }
  handleDataRow(msg: unknown): void {
    if (!this.prefixPending) this.inner.handleDataRow(msg);
  }
  handleCommandComplete(msg: unknown, conn: Wire): void {
    if (this.prefixPending) this.prefixPending = false;
    else this.inner.handleCommandComplete(msg, conn);
  }
  handleEmptyQuery(conn: Wire): void {
    this.inner.handleEmptyQuery(conn);
  }
  handleError(err: unknown, conn: Wire): void {
    this.inner.handleError(err, conn);
  }
  handleReadyForQuery(conn: Wire): void {
    this.inner.handleReadyForQuery(conn);
  }
  handlePortalSuspended(conn: Wire): void {
    this.inner.handlePortalSuspended(conn);
  }
  handleCopyInResponse(conn: Wire): void {
    this.inner.handleCopyInResponse(conn);
  }
  handleCopyData(msg: unknown, conn: Wire): void {
    this.inner.handleCopyData(msg, conn);
  }
}
