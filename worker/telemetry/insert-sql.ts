/**
 * Telemetry rows → one SQL statement. Every kind in a task becomes one multi-row INSERT and all of
 * them run as data-modifying CTEs of a single statement: one round trip and one snapshot per task,
 * however many events it carries. Each kind's rows are one bound JSON parameter, read as records
 * of the log table's row type. Pure: table and column names come from the drizzle schema.
 */
import { getTableName, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { admissionEvents, authAttemptLog, gatewayRequestLog } from '../../drizzle/schema.js';
import type { TelemetryEvent } from './events.js';
import { join, param, quoteIdent, raw, render, sql, type Fragment, type Statement } from '../../drizzle/statement.js';

type Of<K extends TelemetryEvent['kind']> = Extract<TelemetryEvent, { kind: K }>;

const clip = (v: string | null, max: number): string | null => (v === null ? null : v.length > max ? v.slice(0, max) : v);
const int = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.min(2_147_483_647, Math.round(n))) : 0);

/** Columns of one log table and how an event fills them, in order. */
type RowSpec<E> = { table: PgTable; columns: Column[]; values: (e: E) => unknown[] };

const requestRows: RowSpec<Of<'request'>> = {
  table: gatewayRequestLog,
  columns: [
    gatewayRequestLog.requestId,
    gatewayRequestLog.clientName,
    gatewayRequestLog.keyPrefix,
    gatewayRequestLog.method,
    gatewayRequestLog.path,
    gatewayRequestLog.tableName,
    gatewayRequestLog.operation,
    gatewayRequestLog.status,
    gatewayRequestLog.errorCode,
    gatewayRequestLog.durationMs,
  ],
  values: (e) => [
    clip(e.requestId, 128),
    clip(e.clientName, 128),
    clip(e.keyPrefix, 32),
    clip(e.method, 16),
    clip(e.path, 512),
    clip(e.tableName, 256),
    clip(e.operation, 16),
    int(e.status),
    clip(e.errorCode, 64),
    int(e.durationMs),
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
    admissionEvents.requestId,
    admissionEvents.target,
    admissionEvents.purpose,
    admissionEvents.waitedMs,
    admissionEvents.inUse,
    admissionEvents.waiting,
  ],
  values: (e) => [clip(e.requestId, 128), clip(e.target, 256), clip(e.purpose, 32), int(e.waitedMs), int(e.inUse), int(e.waiting)],
};

function insertPart<E>(spec: RowSpec<E>, events: E[]): Fragment {
  const rows = events.map((e) => {
    const values = spec.values(e);
    return Object.fromEntries(spec.columns.map((c, i) => [c.name, values[i]]));
  });
  const table = quoteIdent(getTableName(spec.table));
  const cols = spec.columns.map((c) => quoteIdent(c.name)).join(', ');
  return sql`${raw(`INSERT INTO ${table} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${table}, `)}${param(JSON.stringify(rows), 'json')}) AS "_r"`;
}

/** The single statement writing `events`, or undefined when there is nothing to write. */
export function buildTelemetryStatement(events: readonly TelemetryEvent[]): Statement | undefined {
  const parts: Fragment[] = [];
  const of = <K extends TelemetryEvent['kind']>(kind: K) => events.filter((e): e is Of<K> => e.kind === kind);
  const request = of('request');
  const auth = of('auth_attempt');
  const admission = of('admission');
  if (request.length) parts.push(insertPart(requestRows, request));
  if (auth.length) parts.push(insertPart(authRows, auth));
  if (admission.length) parts.push(insertPart(admissionRows, admission));
  const [only] = parts;
  if (only === undefined) return undefined;
  if (parts.length === 1) return render(only);
  return render(
    sql`WITH ${join(
      parts.map((p, i) => sql`${raw(`w${i}`)} AS (${p})`),
      ', ',
    )} SELECT 1`,
  );
}
