/**
 * Wrangler vars and secrets → typed settings, validated once per isolate with zod. Every knob has a
 * documented default (docs/configuration.md); an invalid value names the var, never a secret's value.
 */
import { z } from 'zod';
import { intVar, listVar, parsedVar, postgresUrlVar } from '../drizzle/env-vars.js';
import { HTTP_EVERYWHERE, parseTransport } from './db/transport.js';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => intVar(def, min, max);
const oneOf = <T extends string>(values: readonly [T, ...T[]], def: T) =>
  parsedVar(def, (v) => ((values as readonly string[]).includes(v) ? (v as T) : { problem: `must be one of ${values.join(', ')}` }));
const postgresUrl = postgresUrlVar();
const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined))
  .pipe(postgresUrl.optional());
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));
const bool = (def: boolean) => oneOf(['true', 'false'], def ? 'true' : 'false').transform((v) => v === 'true');
/** A fraction in (0, 1]. */
const share = (def: number) =>
  parsedVar(def, (v) => {
    const n = Number(v);
    return Number.isFinite(n) && n > 0 && n <= 1 ? n : { problem: 'must be a number greater than 0 and at most 1' };
  });
/** Operator tokens are bearer credentials: long enough that guessing is hopeless. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;
/** The flusher refuses shorter signing secrets; the worker refuses them too, before deploy. */
const SIGNING_SECRET_MIN_LENGTH = 16;

/** Every var the worker reads. Secrets are marked so status output can redact them. */
const SECRET_VARS = [
  'DATABASE_URL',
  'AUTH_DATABASE_URL',
  'LOGGING_DATABASE_URL',
  'TENANT_DATABASE_URL',
  'FLUSH_SIGNING_SECRET',
  'ADMIN_TOKEN',
  'KEY_SIGNING_SECRETS',
] as const;

const schema = z.object({
  DATABASE_URL: postgresUrl,
  AUTH_DATABASE_URL: optionalUrl,
  LOGGING_DATABASE_URL: optionalUrl,
  TENANT_DATABASE_URL: optionalUrl,
  // Lists so a secret rotates without downtime: the first entry signs, every entry is accepted.
  FLUSH_SIGNING_SECRET: listVar(
    z.string().min(SIGNING_SECRET_MIN_LENGTH),
    `at least ${SIGNING_SECRET_MIN_LENGTH} characters (each entry of a comma-separated list)`,
  ),
  ADMIN_TOKEN: listVar(z.string().min(ADMIN_TOKEN_MIN_LENGTH), `at least ${ADMIN_TOKEN_MIN_LENGTH} characters (each entry of a comma-separated list)`),
  KEY_SIGNING_SECRETS: listVar(z.string().min(32), 'at least 32 characters (each entry of a comma-separated list)').transform((v) => v ?? []),
  DB_POOL_MAX: int(8, 1, 1000),
  DB_ACQUIRE_TIMEOUT_MS: int(1000, 1, 60_000),
  DB_STATEMENT_TIMEOUT_MS: int(5000, 1, 600_000),
  DB_PERMIT_LEASE_MS: int(30_000, 100, 600_000),
  DB_CONNECT_TIMEOUT_MS: int(5000, 1, 60_000),
  DB_ACQUIRE_SLOW_MS: int(100, 0, 60_000),
  // How one-shot statements and batches reach the database: Neon's HTTP endpoint (one round trip,
  // warm connections) or a WebSocket session per request (docs/deploy.md "Database transport").
  DB_TRANSPORT: parsedVar(HTTP_EVERYWHERE, parseTransport),
  // Over HTTP, a target silent this long may be suspended: its requests count as connecting (a
  // resume) until their first answer. Neon suspends after a minute without connections at the shortest.
  DB_IDLE_SUSPEND_MS: int(60_000, 0, 3_600_000),
  API_KEY_ENFORCEMENT_DEFAULT: oneOf(['required', 'optional'], 'required'),
  AUTH_CACHE_TTL_MS: int(30_000, 0, 3_600_000),
  AUTH_NEGATIVE_CACHE_TTL_MS: int(5_000, 0, 3_600_000),
  AUTH_CACHE_MAX_ENTRIES: int(10_000, 1, 1_000_000),
  AUTH_POLICY_CACHE_TTL_MS: int(30_000, 0, 3_600_000),
  AUTH_STALE_IF_UNAVAILABLE_MS: int(0, 0, 86_400_000),
  AUTH_FAIL_MODE: oneOf(['closed', 'open'], 'closed'),
  AUTH_FAIL_OPEN_SCOPES: oneOf(['read', 'none'], 'read'),
  AUTH_LOOKUP_TIMEOUT_MS: int(1000, 1, 60_000),
  AUTH_ACCEPT_LEGACY_KEYS: bool(true),
  // Declares a deployment without KEY_SIGNING_SECRETS on purpose (every key legacy); the preflight reads it.
  AUTH_LEGACY_KEYS_ONLY: bool(false),
  AUTH_CLIENT_MAX_SHARE: share(0.5),
  AUTH_DIRECTORY_MAX_CLIENTS: int(10_000, 1, 1_000_000),
  AUTH_DIRECTORY_RECHECK_MS: int(1000, 0, 3_600_000),
  // How old this isolate's knowledge of catalog changes may be before a request checks the epoch itself.
  AUTH_CHANGE_BOUND_MS: int(2000, 100, 3_600_000),
  STATS_SINK: oneOf(['direct', 'flusher', 'per_request'], 'direct'),
  STATS_FLUSH_INTERVAL_MS: int(1000, 0, 600_000),
  STATS_FLUSH_MAX_KEYS: int(500, 1, 100_000),
  STATS_MAX_PENDING_KEYS: int(10_000, 1, 1_000_000),
  // Several flusher replicas, comma-separated: batches spread over them, a failing one is skipped.
  FLUSHER_URL: listVar(z.url({ protocol: /^https?$/ }), 'http(s) URLs (comma-separated for several flusher replicas)'),
  LOG_TASK_LIMIT: int(0, 0, 16),
  REQUEST_LOG: oneOf(['all', 'errors', 'off'], 'errors'),
  LOG_ACQUIRE_TIMEOUT_MS: int(50, 1, 60_000),
  LOG_DROP_WARN_INTERVAL_MS: int(10_000, 0, 3_600_000),
  GATEWAY_MAX_LIMIT: int(1000, 1, 100_000),
  // A rate limiter slower than this is treated as unavailable: the request goes through unjudged.
  RATE_LIMITER_TIMEOUT_MS: int(1000, 1, 60_000),
  GATEWAY_MAX_BODY_BYTES: int(1_048_576, 1024, 104_857_600),
  CATALOG_CACHE_TTL_MS: int(30_000, 0, 3_600_000),
  // A miss on a cached catalog younger than this is answered from it: a flood of unknown names costs
  // at most one catalog query per interval per target, and a new table is found within it.
  CATALOG_RECHECK_MS: int(1000, 0, 3_600_000),
  TRANSACTION_MAX_OPERATIONS: int(100, 1, 1000),
  TRANSACTION_TIMEOUT_MS: int(10_000, 1, 600_000),
  TRANSACTION_IDEMPOTENCY_TTL_MS: int(86_400_000, 60_000, 2_592_000_000),
  NEON_LOCAL_WS_PROXY: optionalText,
});

type Parsed = z.output<typeof schema>;

export type Settings = Readonly<
  Parsed & {
    /** Connection targets after defaulting to DATABASE_URL. */
    authDatabaseUrl: string;
    loggingDatabaseUrl: string;
    tenantDatabaseUrl: string;
    /** LOG_TASK_LIMIT, or max(1, floor(DB_POOL_MAX/4)) capped at 16. */
    logTaskLimit: number;
  }
>;

export type ConfigResult = { ok: true; settings: Settings } | { ok: false; variable: string; problem: string };

/** One invalid var: its name and what is wrong — never its value. */
export type SettingsIssue = { variable: string; problem: string };

/** The vars the worker reads, and which of them are secrets (`wrangler secret put`, never wrangler.toml). */
export const SETTING_VARS: readonly string[] = Object.keys(schema.shape);
export const SECRET_SETTING_VARS: readonly string[] = SECRET_VARS;

type Validated = { ok: true; parsed: Parsed } | { ok: false; issues: SettingsIssue[] };

/** Runs the schema and the cross-var rules, collecting every issue (the preflight lists them all). */
function validate(env: Record<string, unknown>): Validated {
  const input: Record<string, unknown> = {};
  for (const key of SETTING_VARS) {
    const v = env[key];
    input[key] = v === undefined || v === null ? undefined : String(v);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'unknown');
      return { variable, problem: input[variable] === undefined ? 'is required' : issue.message };
    });
    return { ok: false, issues };
  }
  const p = parsed.data;
  if (p.STATS_SINK === 'flusher' && (!p.FLUSHER_URL || !p.FLUSH_SIGNING_SECRET)) {
    const variable = p.FLUSHER_URL ? 'FLUSH_SIGNING_SECRET' : 'FLUSHER_URL';
    return { ok: false, issues: [{ variable, problem: 'is required when STATS_SINK=flusher' }] };
  }
  return { ok: true, parsed: p };
}

/** Every problem with these bindings (empty when the worker would start). Pure. */
export function settingsIssues(env: Record<string, unknown>): SettingsIssue[] {
  const v = validate(env);
  return v.ok ? [] : v.issues;
}

/** Parses the worker's env bindings. Pure: the same input always gives the same result. */
export function parseSettings(env: Record<string, unknown>): ConfigResult {
  const v = validate(env);
  if (!v.ok) {
    const first = v.issues[0] ?? { variable: 'unknown', problem: 'is invalid' };
    return { ok: false, ...first };
  }
  const p = v.parsed;
  return {
    ok: true,
    settings: Object.freeze({
      ...p,
      authDatabaseUrl: p.AUTH_DATABASE_URL ?? p.DATABASE_URL,
      loggingDatabaseUrl: p.LOGGING_DATABASE_URL ?? p.DATABASE_URL,
      tenantDatabaseUrl: p.TENANT_DATABASE_URL ?? p.DATABASE_URL,
      logTaskLimit: p.LOG_TASK_LIMIT > 0 ? p.LOG_TASK_LIMIT : Math.min(16, Math.max(1, Math.floor(p.DB_POOL_MAX / 4))),
    }),
  };
}

/** Settings with every secret replaced, for the status endpoint and logs. */
export function redactedSettings(settings: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const secret = new Set<string>(SECRET_VARS);
  for (const [k, v] of Object.entries(settings)) {
    if (secret.has(k) || /databaseurl$/i.test(k)) out[k] = v === undefined ? null : '[redacted]';
    else if (k === 'FLUSHER_URL' && Array.isArray(v)) out[k] = v.map((u) => originAndPath(String(u)));
    else out[k] = v;
  }
  return out;
}

/** A URL without credentials, query or fragment (a token may hide in any of them). */
export function originAndPath(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
