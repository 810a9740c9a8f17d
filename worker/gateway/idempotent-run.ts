/**
 * One `/gateway/transaction` with an `idempotency_key`, after its operations were authorized and
 * planned on the tenant session: reserve the caller's record (client, API key, idempotency key),
 * answer a stored result or run the transaction, and store its response text with the tenant
 * transaction id before COMMIT. So a committed transaction is never answered "retry": nothing
 * is left to fail after COMMIT, and a retry learns the outcome from the tenant (`pg_xact_status`).
 * (docs/protocol-sql-rpc-transactions.md "Idempotency per key")
 */
import { GatewayError } from '../errors.js';
import type { Session } from '../db/session.js';
import { targetOf } from '../db/target.js';
import { SessionUnavailableError, withSession, type SessionContext } from '../db/with-session.js';
import { currentXid, release, reserve, store, takeOver, xactStatus, type RecordKey, type RecordTimes, type Reservation } from './idempotency.js';
import { sqlState } from './pg-errors.js';
import { log } from '../log.js';

/** Runs the transaction: calls `beforeCommit` with the response text just before COMMIT, returns that text. */
export type TransactionRun = (beforeCommit: (responseText: string) => Promise<void>) => Promise<string>;

export type IdempotentAnswer = { status: number; text: string; replayed: boolean };

export type IdempotentContext = {
  ctx: SessionContext;
  /** The catalog database (DATABASE_URL); when it is the tenant's own target, the tenant session serves both. */
  catalogUrl: string;
  signal?: AbortSignal | undefined;
  tenant: Session;
  tenantTargetKey: string;
  key: RecordKey;
  times: RecordTimes;
};

/** The connection went away during COMMIT: the transaction may have committed. Its record stays. */
class CommitOutcomeUnknown extends GatewayError {
  constructor() {
    super('database_unavailable', 'The connection to the database was lost during COMMIT: the transaction may have committed', {
      hint: 'With an idempotency_key, a retry with the same key answers whether it did.',
    });
  }
}

/** What a failed COMMIT means: the server's refusal (rolled back), or an unknown outcome. */
export function commitFailure(err: unknown): unknown {
  const code = sqlState(err);
  return code && !code.startsWith('08') && !code.startsWith('57') ? err : new CommitOutcomeUnknown();
}

export async function runIdempotent(d: IdempotentContext, run: TransactionRun): Promise<IdempotentAnswer> {
  return onCatalog(d, async (s) => {
    const found = await resolve(d, s, await catalogStep(() => reserve(s, d.key, d.times)));
    switch (found.kind) {
      case 'stored':
        return { status: found.status, text: found.response, replayed: true };
      case 'running':
        throw new GatewayError('conflict', 'A transaction with this idempotency_key is still running', {
          hint: 'Retry after Retry-After seconds to get its result.',
          retryAfter: found.retryAfterS,
        });
      case 'mismatch':
        throw new GatewayError('conflict', 'idempotency_key was already used with a different body', { hint: 'Use a new key for a different transaction.' });
      case 'reserved':
        return { status: 200, text: await runReserved(d, s, found.attempt, run), replayed: false };
    }
  });
}

/** A stored record is final once the tenant says its transaction committed; an aborted one is taken over. */
async function resolve(d: IdempotentContext, s: Session, found: Reservation): Promise<Reservation> {
  if (found.kind !== 'stored' || found.tenantXid === null) return found;
  const status = await xactStatus(d.tenant, found.tenantXid);
  if (status === 'aborted') return catalogStep(() => takeOver(s, d.key, found.attempt));
  // Stored, not yet committed: its run is between storing and COMMIT, a moment.
  if (status === 'in progress') return { kind: 'running', retryAfterS: 1 };
  // Committed, or too old for the tenant to tell (records outlive no transaction status): the stored answer.
  return found;
}

async function runReserved(d: IdempotentContext, s: Session, attempt: string, run: TransactionRun): Promise<string> {
  let wrote = true;
  let text: string;
  try {
    text = await run(async (responseText) => {
      const xid = await currentXid(d.tenant);
      wrote = xid !== null;
      // Nothing written: nothing to apply twice, so the response is stored after COMMIT.
      if (!wrote) return;
      const own = await catalogStep(() => store(s, d.key, attempt, 200, responseText, xid));
      if (!own) {
        throw new GatewayError('conflict', 'A retry with this idempotency_key took over while this transaction ran; it was rolled back', {
          hint: 'Retry after Retry-After seconds to get the result of the run that took over.',
          retryAfter: 1,
        });
      }
    });
  } catch (err) {
    // Not committed (or the server refused the COMMIT): a retry may run it. An unknown outcome keeps the record.
    if (!(err instanceof CommitOutcomeUnknown)) await release(s, d.key, attempt).catch(() => undefined);
    throw err;
  }
  // Nothing was written, so a lost store costs only a rerun: release the record rather than leave it running.
  if (!wrote && !(await store(s, d.key, attempt, 200, text, null).catch(() => false))) await release(s, d.key, attempt).catch(() => undefined);
  return text;
}

/** The catalog session for the records: the tenant's own when both are one database. */
async function onCatalog<T>(d: IdempotentContext, fn: (s: Session) => Promise<T>): Promise<T> {
  if (targetOf(d.catalogUrl).key === d.tenantTargetKey) return fn(d.tenant);
  try {
    return await withSession(d.ctx, d.catalogUrl, 'idempotency', fn, { signal: d.signal });
  } catch (err) {
    throw err instanceof SessionUnavailableError ? recordsUnavailable() : err;
  }
}

/** Catalog trouble before anything committed is a 503 the caller retries with the same key. */
async function catalogStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    log('warn', 'idempotency_records_unavailable', { sqlstate: sqlState(err) ?? null });
    throw recordsUnavailable();
  }
}

const recordsUnavailable = () =>
  new GatewayError('database_unavailable', 'Idempotency records unavailable', { hint: 'Retry shortly with the same idempotency_key.' });
