/**
 * Counter deltas accumulated in memory, keyed like the rows they become: per client, per
 * (client, table, operation), per key. Pure data; the batcher owns when they are swapped out.
 */
import type { Batch } from '../../drizzle/batch.js';
import type { Operation } from '../../drizzle/schema.js';

/** What one finished request contributes to the counters. */
export type CountedRequest = {
  clientName: string;
  /** The response was an error (status ≥ 400). */
  isError: boolean;
  /** The response was a rate-limit refusal (429 rate_limited). */
  rateLimited?: boolean;
  /** When the request finished, ms since the epoch. */
  at: number;
  keyId?: string | undefined;
  table?: { tableName: string; operation: Operation; durationMs: number } | undefined;
};

type ClientAcc = { requests: number; errors: number; rateLimited: number; lastSeen: number };
type TableAcc = { requests: number; errors: number; lastSeen: number } & { clientName: string; tableName: string; operation: Operation; durationMs: number };

const iso = (ms: number): string => new Date(ms).toISOString();

/** A bounded-by-caller set of deltas; `add` reports which rows it could not take. */
export class Deltas {
  private readonly clients = new Map<string, ClientAcc>();
  private readonly tables = new Map<string, TableAcc>();
  private readonly keys = new Map<string, number>();

  /** Distinct rows held (the unit of STATS_MAX_PENDING_KEYS). */
  get size(): number {
    return this.clients.size + this.tables.size + this.keys.size;
  }

  /**
   * Adds one request. A row not yet held is created only while `canGrow()` says so; otherwise it
   * is dropped, and the number of dropped rows is returned. Existing rows always absorb the delta.
   */
  add(u: CountedRequest, canGrow: () => boolean): number {
    let dropped = 0;
    const errors = u.isError ? 1 : 0;
    const client = this.clients.get(u.clientName);
    if (client) {
      client.requests += 1;
      client.errors += errors;
      client.rateLimited += u.rateLimited ? 1 : 0;
      client.lastSeen = Math.max(client.lastSeen, u.at);
    } else if (canGrow()) this.clients.set(u.clientName, { requests: 1, errors, rateLimited: u.rateLimited ? 1 : 0, lastSeen: u.at });
    else dropped++;

    if (u.table) {
      const { tableName, operation, durationMs } = u.table;
      const k = `${u.clientName}\u0000${tableName}\u0000${operation}`;
      const row = this.tables.get(k);
      const ms = Math.max(0, Math.round(durationMs));
      if (row) {
        row.requests += 1;
        row.errors += errors;
        row.durationMs += ms;
        row.lastSeen = Math.max(row.lastSeen, u.at);
      } else if (canGrow()) this.tables.set(k, { clientName: u.clientName, tableName, operation, requests: 1, errors, durationMs: ms, lastSeen: u.at });
      else dropped++;
    }

    if (u.keyId) {
      const last = this.keys.get(u.keyId);
      if (last !== undefined) this.keys.set(u.keyId, Math.max(last, u.at));
      else if (canGrow()) this.keys.set(u.keyId, u.at);
      else dropped++;
    }
    return dropped;
  }

  /** The deltas as a wire batch. */
  toBatch(meta: { batchId: string; source: string; createdAt: number }): Batch {
    return {
      batch_id: meta.batchId,
      source: meta.source,
      created_at: iso(meta.createdAt),
      clients: [...this.clients].map(([client_name, r]) => ({
        client_name,
        requests: r.requests,
        errors: r.errors,
        rate_limited: r.rateLimited,
        last_seen: iso(r.lastSeen),
      })),
      tables: [...this.tables.values()].map((r) => ({
        client_name: r.clientName,
        table_name: r.tableName,
        operation: r.operation,
        requests: r.requests,
        errors: r.errors,
        duration_ms: r.durationMs,
        last_seen: iso(r.lastSeen),
      })),
      keys: [...this.keys].map(([key_id, at]) => ({ key_id, last_used: iso(at) })),
    };
  }
}
