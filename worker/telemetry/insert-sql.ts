/**
 * Telemetry rows → one SQL statement. Every kind in a task becomes one multi-row INSERT and all of
 * them run as data-modifying CTEs of a single statement: one round trip and one snapshot per task, however many events it carries.
 * Pure: table and column names come from the drizzle schema, values are always bound parameters.
 */
import { getTableName, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { admissionEvents, authAttemptLog, gatewayRequestLog } from '../../drizzle/schema.js';
import type { TelemetryEvent } from './events.js';

import type { Statement } from '../../drizzle/statement.js';

type Of<K extends TelemetryEvent['kind']> = Extract<TelemetryEvent, { kind: K }>;

const clip = (v: string | null, max: number): string | null => (v === null ? null : v.length > max ? v.slice(0, max) : v);
const int = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.min(2_147_483_647, Math.round(n))) : 0);
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Columns of one log table and how an event fills them, in order. */
type RowSpec<E> = { table: PgTable; columns: Column[]; values: (e: E) => unknown[] };

const requestRows: RowSpec<Of<'request'>> = {
  table: gatewayRequestLog,
  columns: [
    gatewayRequestLog.requestId, gatewayRequestLog.clientName, gatewayRequestLog.keyPrefix, gatewayRequestLog.method,
    gatewayRequestLog.path, gatewayRequestLog.tableName, gatewayRequestLog.operation, gatewayRequestLog.status,
    gatewayRequestLog.errorCode, gatewayRequestLog.durationMs,
  ],
  values: (e) => [
    clip(e.requestId, 128), clip(e.clientName, 128), clip(e.keyPrefix, 32), clip(e.method, 16), clip(e.path, 512),
    clip(e.tableName, 256), clip(e.operation, 16), int(e.status), clip(e.errorCode, 64), int(e.durationMs),
  ],
};

const authRows: RowSpec<Of<'auth_attempt'>> = {
  table: authAttemptLog,
  columns: [authAttemptLog.requestId, authAttemptLog.clientName, authAttemptLog.keyPrefix, authAttemptLog.reason],
  values: (e) => [clip(e.requestId, 128), clip(e.clientName, 128), clip(e.keyPrefix, 32), clip(e.reason, 200)],
};

const admissionRows: RowSpec<Of<'admission'>> = {
  table: admissionEvents,
  columns: [
    admissionEvents.requestId, admissionEvents.target, admissionEvents.purpose, admissionEvents.waitedMs,
    admissionEvents.inUse, admissionEvents.waiting,
  ],
  values: (e) => [
    clip(e.requestId, 128), clip(e.target, 256), clip(e.purpose, 32), int(e.waitedMs), int(e.inUse), int(e.waiting),
  ],
};

function insertPart<E>(spec: RowSpec<E>, events: E[], params: unknown[]): string {
  const tuples = events.map((e) => {
    const slots = spec.values(e).map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    return `(${slots.join(', ')})`;
  });
  const cols = spec.columns.map((c) => quote(c.name)).join(', ');
  return `INSERT INTO ${quote(getTableName(spec.table))} (${cols}) VALUES ${tuples.join(', ')}`;
}

/** The single statement writing `events`, or undefined when there is nothing to write. */
export function buildTelemetryStatement(events: readonly TelemetryEvent[]): Statement | undefined {
  const params: unknown[] = [];
  const parts: string[] = [];
  const of = <K extends TelemetryEvent['kind']>(kind: K) => events.filter((e): e is Of<K> => e.kind === kind);
  const request = of('request');
  const auth = of('auth_attempt');
  const admission = of('admission');
  if (request.length) parts.push(insertPart(requestRows, request, params));
  if (auth.length) parts.push(insertPart(authRows, auth, params));
  if (admission.length) parts.push(insertPart(admissionRows, admission, params));
  const [only] = parts;
  if (only === undefined) return undefined;
  if (parts.length === 1) return { text: only, params };
  return { text: `WITH ${parts.map((p, i) => `w${i} AS (${p})`).join(', ')} SELECT 1`, params };
}
