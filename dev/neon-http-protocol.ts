/**
 * Neon's HTTP SQL endpoint as `@neondatabase/serverless` speaks it (`neon()` and its
 * `transaction()`): request headers and JSON body in, result and error bodies out. What the local
 * endpoint refuses, and why, is in docs/configuration.md "Neon HTTP SQL endpoint". Pure: the
 * endpoint (dev/neon-http-endpoint.ts) does the I/O.
 */
import { toPgText } from './neon-http-params.js';

export type Isolation = 'ReadUncommitted' | 'ReadCommitted' | 'RepeatableRead' | 'Serializable';
/** Where the connection string points and as whom. */
export type SqlTarget = { host: string; port: number; user: string; password: string; database: string };
export type SqlStatement = { query: string; params: Array<string | null>; arrayMode: boolean };
export type BatchOptions = { isolation: Isolation | undefined; readOnly: boolean; deferrable: boolean };
/** A single statement (`batch` undefined) or a batch run as one transaction. */
export type SqlRequest = { target: SqlTarget; statements: SqlStatement[]; batch: BatchOptions | undefined };
export type Refusal = { status: number; message: string };
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: Refusal };
type HeaderBag = Record<string, string | string[] | undefined>;

const ISOLATIONS: ReadonlySet<string> = new Set(['ReadUncommitted', 'ReadCommitted', 'RepeatableRead', 'Serializable']);
const KNOWN_HEADERS: ReadonlySet<string> = new Set([
  'neon-connection-string',
  'neon-raw-text-output',
  'neon-array-mode',
  'neon-batch-isolation-level',
  'neon-batch-read-only',
  'neon-batch-deferrable',
  'neon-pool-opt-in',
]);
const QUERY_KEYS: ReadonlySet<string> = new Set(['query', 'params', 'arrayMode']);

const refuse = (message: string, status = 400): { ok: false; error: Refusal } => ({ ok: false, error: { status, message } });
const one = (h: HeaderBag, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** `true`/`false`/absent as the driver sends them (`String(boolean)`); anything else is refused, not read as false. */
function flag(h: HeaderBag, name: string, label: string): Parsed<boolean> {
  const v = one(h, name);
  if (v === undefined || v === 'false') return { ok: true, value: false };
  if (v === 'true') return { ok: true, value: true };
  return refuse(`${label} must be true or false`);
}

/** Parses one request to the endpoint: its headers and its body (already read, as text). */
export function readSqlRequest(headers: HeaderBag, body: string): Parsed<SqlRequest> {
  const options = readOptions(headers);
  if (!options.ok) return options;
  const target = readTarget(one(headers, 'neon-connection-string'));
  if (!target.ok) return target;
  const payload = readPayload(body, options.value.arrayMode);
  if (!payload.ok) return payload;
  return { ok: true, value: { target: target.value, statements: payload.value.statements, batch: payload.value.batch ? options.value.batch : undefined } };
}

function readOptions(h: HeaderBag): Parsed<{ arrayMode: boolean; batch: BatchOptions }> {
  const unknown = Object.keys(h).find((k) => k.startsWith('neon-') && !KNOWN_HEADERS.has(k));
  if (unknown) return refuse(`header ${unknown} is not supported by the local endpoint`);
  if (h.authorization !== undefined)
    return refuse('JWT authentication (Authorization header) is not supported by the local endpoint: put the password in the connection string');
  if (one(h, 'neon-raw-text-output') !== 'true')
    return refuse('Neon-Raw-Text-Output must be true: the local endpoint answers Postgres text only (the driver always asks for it)');
  const arrayMode = flag(h, 'neon-array-mode', 'Neon-Array-Mode');
  const readOnly = flag(h, 'neon-batch-read-only', 'Neon-Batch-Read-Only');
  const deferrable = flag(h, 'neon-batch-deferrable', 'Neon-Batch-Deferrable');
  const pool = flag(h, 'neon-pool-opt-in', 'Neon-Pool-Opt-In');
  for (const f of [arrayMode, readOnly, deferrable, pool]) if (!f.ok) return f;
  const isolation = one(h, 'neon-batch-isolation-level');
  if (isolation !== undefined && !ISOLATIONS.has(isolation)) return refuse('invalid isolation level');
  return {
    ok: true,
    value: {
      arrayMode: arrayMode.ok && arrayMode.value,
      batch: { isolation: isolation as Isolation | undefined, readOnly: readOnly.ok && readOnly.value, deferrable: deferrable.ok && deferrable.value },
    },
  };
}

/** The connection string's server, role, password and database; its query parameters are not passed on (Neon's HTTP path does not either). */
function readTarget(connectionString: string | undefined): Parsed<SqlTarget> {
  if (!connectionString) return refuse('connection string not provided (Neon-Connection-String header)');
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return refuse('connection string is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return refuse('connection string must use the postgres:// or postgresql:// scheme');
  const database = decodeURIComponent(url.pathname.slice(1));
  const user = decodeURIComponent(url.username);
  if (!database) return refuse('connection string names no database');
  if (!user) return refuse('connection string names no user');
  if (!url.password) return refuse('connection string has no password (password authentication only)');
  if (!url.hostname) return refuse('connection string names no host');
  return { ok: true, value: { host: url.hostname, port: Number(url.port || '5432'), user, password: decodeURIComponent(url.password), database } };
}

function readPayload(body: string, defaultArrayMode: boolean): Parsed<{ statements: SqlStatement[]; batch: boolean }> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return refuse('request body is not JSON');
  }
  if (!isObject(json)) return refuse('request body must be {query, params} or {queries: [...]}');
  if ('query' in json) {
    const s = readStatement(json, defaultArrayMode);
    return s.ok ? { ok: true, value: { statements: [s.value], batch: false } } : s;
  }
  const extra = Object.keys(json).find((k) => k !== 'queries');
  if (extra !== undefined || !Array.isArray(json.queries))
    return refuse(extra ? `body field ${extra} is not supported` : 'request body must be {query, params} or {queries: [...]}');
  const statements: SqlStatement[] = [];
  for (const q of json.queries) {
    const s = isObject(q) ? readStatement(q, defaultArrayMode) : refuse('each of queries must be {query, params}');
    if (!s.ok) return s;
    statements.push(s.value);
  }
  return { ok: true, value: { statements, batch: true } };
}

function readStatement(o: Record<string, unknown>, defaultArrayMode: boolean): Parsed<SqlStatement> {
  const extra = Object.keys(o).find((k) => !QUERY_KEYS.has(k));
  if (extra !== undefined) return refuse(`body field ${extra} is not supported`);
  if (typeof o.query !== 'string') return refuse('query must be a string');
  if (o.params !== undefined && !Array.isArray(o.params)) return refuse('params must be an array');
  if (o.arrayMode !== undefined && typeof o.arrayMode !== 'boolean') return refuse('arrayMode must be a boolean');
  const params = ((o.params ?? []) as unknown[]).map(toPgText);
  return { ok: true, value: { query: o.query, params, arrayMode: o.arrayMode ?? defaultArrayMode } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The statement that opens a batch's transaction with its options (none: a plain BEGIN). */
export function beginStatement(b: BatchOptions): string {
  const parts: string[] = [];
  if (b.isolation) parts.push(`ISOLATION LEVEL ${b.isolation.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()}`);
  if (b.readOnly) parts.push('READ ONLY');
  if (b.deferrable) parts.push('DEFERRABLE');
  return parts.length ? `START TRANSACTION ${parts.join(', ')}` : 'BEGIN';
}

/** A column as the driver reads it (`fields[i].dataTypeID` picks the parser). */
export type FieldDescription = { name: string; tableID: number; columnID: number; dataTypeID: number; dataTypeSize: number; dataTypeModifier: number };
/** One statement's outcome, as `pg` reports it with every value as text. */
export type TextResult = { fields: FieldDescription[]; rows: Array<Array<string | null>>; command: string | null; rowCount: number | null };

/** One statement's result body: rows as arrays, or objects by column name (a later column of the same name wins). */
export function resultBody(r: TextResult, arrayMode: boolean): Record<string, unknown> {
  const names = r.fields.map((f) => f.name);
  return {
    rowAsArray: arrayMode,
    fields: r.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: 'text',
    })),
    rows: arrayMode ? r.rows : r.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i], v]))),
    command: r.command ?? '',
    rowCount: r.rowCount,
  };
}

/** The Postgres error fields the driver copies onto its NeonDbError. */
export const DB_ERROR_FIELDS = [
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'severity',
  'where',
  'table',
  'column',
  'schema',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

/** An error body: `message` and every field, `null` where Postgres gave none (code and severity `""`, as Neon's). */
export function errorBody(message: string, db: Partial<Record<(typeof DB_ERROR_FIELDS)[number], unknown>> = {}): Record<string, string | null> {
  const body: Record<string, string | null> = { message };
  for (const k of DB_ERROR_FIELDS) {
    const v = db[k];
    body[k] = v === undefined || v === null ? (k === 'code' || k === 'severity' ? '' : null) : String(v);
  }
  return body;
}
