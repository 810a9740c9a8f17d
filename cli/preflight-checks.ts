/**
 * The preflight's judgement, pure: a deployment's vars, secrets (when given), compatibility
 * settings and bundle size in, one finding per problem out. The vars go through the worker's own
 * settings parser, so the preflight and the worker can never disagree on what is valid. Findings
 * name vars, never their values (a secret must not reach a CI log).
 */
import { SECRET_SETTING_VARS, SETTING_VARS, settingsIssues } from '../worker/config.js';
import { deployFindings, unlistedSecrets, type DeployTarget } from './preflight-deploy.js';
import type { Finding, FindingLevel } from './preflight-finding.js';

export type BundleSize = {
  rawBytes: number;
  gzipBytes: number;
  /** CPU ms to load and evaluate the bundle in a fresh V8 (Node), when it could be measured. */
  startupCpuMs?: number | undefined;
};

export type PreflightInput = {
  /** The wrangler environment (`production`), or undefined for the top level. */
  env: string | undefined;
  /** The environment's `[vars]` as wrangler resolves them. */
  vars: Record<string, unknown>;
  /** Secrets from `--secrets-file`; undefined when none was given (they are then not checked). */
  secrets: Record<string, string> | undefined;
  compatibilityDate: string | undefined;
  compatibilityFlags: readonly string[];
  /** The dry-run bundle, why bundling failed, or undefined when it was skipped. */
  bundle: BundleSize | { failed: string } | undefined;
  /** Today as YYYY-MM-DD (injected: a compatibility date in the future is refused by Cloudflare). */
  today: string;
  /** Name, secrets.required, observability and routes as wrangler resolved them; undefined skips those checks. */
  target?: DeployTarget | undefined;
};

const MiB = 1024 * 1024;
/** Cloudflare's published Worker size limits: compressed 3 MiB (Free) / 10 MiB (Paid); newer docs state 64 MiB uncompressed. */
const LIMITS = { freeGzip: 3 * MiB, paidGzip: 10 * MiB, raw: 64 * MiB, startupMs: 1000 } as const;
/** Half of Workers' 1 s startup limit: past this, a slower edge machine or growth tips it over. */
const STARTUP_RISK_MS = 500;
/** The Neon driver and node: built-ins need it. */
const REQUIRED_FLAGS = ['nodejs_compat'] as const;
/** `request.signal` aborts when the client goes away, so queued work is cancelled (not just wasted). */
const RECOMMENDED_FLAGS = { enable_request_signal: 'client disconnects never abort request.signal, so work for a departed client still runs' } as const;
/** Below this, a pool leaves almost no room next to the auth lookups and log tasks. */
const TINY_POOL = 4;
/** Stand-ins for required secrets while only vars are checked (no secrets file); any other secret gets a long token. */
const PLACEHOLDERS: Record<string, string> = { DATABASE_URL: 'postgres://preflight@placeholder.invalid:5432/catalog' };
const placeholder = (name: string) => PLACEHOLDERS[name] ?? 'preflight-placeholder-'.padEnd(64, 'x');

/**
 * The secrets these vars make the worker require, asked of the worker's own parser: fill each one
 * it reports missing with a stand-in and ask again (a rule such as "FLUSH_SIGNING_SECRET is
 * required when STATS_SINK=flusher" only shows once the others pass).
 */
export function requiredSecrets(vars: Record<string, unknown>): { names: string[]; standIns: Record<string, string> } {
  const standIns: Record<string, string> = {};
  const env = stringVars(vars);
  for (let round = 0; round <= SECRET_SETTING_VARS.length; round++) {
    const missing = settingsIssues({ ...env, ...standIns }).filter(
      (i) => SECRET_SETTING_VARS.includes(i.variable) && i.problem.startsWith('is required') && !standIns[i.variable],
    );
    if (missing.length === 0) break;
    for (const m of missing) standIns[m.variable] = placeholder(m.variable);
  }
  return { names: Object.keys(standIns), standIns };
}

/** All findings, errors first. */
export function preflightFindings(input: PreflightInput): Finding[] {
  const deploy = deployFindings({ env: input.env, vars: stringVars(input.vars), secrets: input.secrets, target: input.target });
  const findings = [
    ...varFindings(input),
    ...secretFindings(input),
    ...deploy,
    ...compatFindings(input),
    ...bundleFindings(input.bundle),
    ...postureFindings(input),
  ];
  const rank: Record<FindingLevel, number> = { error: 0, warn: 1, info: 2 };
  return findings.sort((a, b) => rank[a.level] - rank[b.level]);
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function varFindings({ vars, secrets }: PreflightInput): Finding[] {
  const out: Finding[] = [];
  for (const name of Object.keys(vars)) {
    if (SECRET_SETTING_VARS.includes(name) && asText(vars[name]) !== '') {
      out.push({ level: 'error', subject: name, message: 'is a secret but is set in wrangler.toml [vars]; remove it and use `wrangler secret put`' });
    } else if (!SETTING_VARS.includes(name)) {
      out.push({ level: 'warn', subject: name, message: 'is not a var the worker reads (a typo?)' });
    }
  }
  const env = { ...(secrets ?? requiredSecrets(vars).standIns), ...stringVars(vars) };
  for (const issue of settingsIssues(env)) {
    // With no secrets file, secret problems are reported by secretFindings, not here.
    if (SECRET_SETTING_VARS.includes(issue.variable) && !(issue.variable in vars && asText(vars[issue.variable]) !== '')) {
      if (secrets === undefined) continue;
      out.push({
        level: 'error',
        subject: issue.variable,
        message: issue.problem === 'is required' ? 'secret is missing from the secrets file' : `secret ${issue.problem}`,
      });
      continue;
    }
    out.push({ level: 'error', subject: issue.variable, message: issue.problem });
  }
  return out;
}

function stringVars(vars: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, asText(v)]));
}

/** The secrets a deployment of these vars needs: the parser's required ones, ADMIN_TOKEN, and the key-signing secrets unless legacy keys only is declared. */
function neededSecrets(vars: Record<string, unknown>): string[] {
  const keySigning = asText(vars.AUTH_LEGACY_KEYS_ONLY) === 'true' ? [] : ['KEY_SIGNING_SECRETS'];
  return [...new Set([...requiredSecrets(vars).names, 'ADMIN_TOKEN', ...keySigning])];
}

function secretFindings({ secrets, vars, env, target }: PreflightInput): Finding[] {
  const flag = env ? ` --env ${env}` : '';
  // ADMIN_TOKEN only opens the operator routes: the worker serves without it, so deploy need not stop on it.
  const unlisted = env
    ? unlistedSecrets(
        neededSecrets(vars).filter((name) => name !== 'ADMIN_TOKEN'),
        target,
      )
    : [];
  const listing: Finding[] = unlisted.length
    ? [{ level: 'warn', subject: 'secrets.required', message: `lacks ${unlisted.join(', ')}: \`wrangler deploy\` uploads even while they are unset` }]
    : [];
  if (secrets === undefined) {
    return [
      ...listing,
      {
        level: 'info',
        subject: 'secrets',
        message: `not checked (no --secrets-file); the worker needs ${neededSecrets(vars).join(', ')} set with \`wrangler secret put <NAME>${flag}\``,
      },
    ];
  }
  const out: Finding[] = [...listing];
  // Required by wrangler.toml: `wrangler deploy` refuses while one is unset (DATABASE_URL and the key-signing secrets have their own findings).
  const requiredMissing = (target?.requiredSecrets ?? []).filter((name) => !secrets[name] && name !== 'DATABASE_URL' && name !== 'KEY_SIGNING_SECRETS');
  for (const name of requiredMissing) out.push({ level: 'error', subject: name, message: `is in secrets.required but missing from the secrets file` });
  if (!secrets.ADMIN_TOKEN && !requiredMissing.includes('ADMIN_TOKEN'))
    out.push({ level: 'warn', subject: 'ADMIN_TOKEN', message: 'not set: /__gateway/status and /__gateway/flush stay closed to operators' });
  for (const name of Object.keys(secrets)) {
    if (!SECRET_SETTING_VARS.includes(name) && !SETTING_VARS.includes(name))
      out.push({ level: 'warn', subject: name, message: 'in the secrets file is not a var the worker reads' });
  }
  return out;
}

function compatFindings({ compatibilityDate, compatibilityFlags, today }: PreflightInput): Finding[] {
  const out: Finding[] = [];
  if (!compatibilityDate) out.push({ level: 'error', subject: 'compatibility_date', message: 'is not set' });
  else if (compatibilityDate > today)
    out.push({ level: 'error', subject: 'compatibility_date', message: `${compatibilityDate} is in the future; Cloudflare refuses the upload` });
  for (const flag of REQUIRED_FLAGS) {
    if (!compatibilityFlags.includes(flag))
      out.push({ level: 'error', subject: 'compatibility_flags', message: `missing ${flag} (the Postgres driver and node: built-ins need it)` });
  }
  for (const [flag, why] of Object.entries(RECOMMENDED_FLAGS)) {
    if (!compatibilityFlags.includes(flag)) out.push({ level: 'warn', subject: 'compatibility_flags', message: `missing ${flag}: ${why}` });
  }
  return out;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;

/** Size against the Worker size limits, and the startup-time risk a large bundle carries. */
export function bundleFindings(bundle: PreflightInput['bundle']): Finding[] {
  if (!bundle) return [{ level: 'info', subject: 'bundle', message: 'not built (--no-bundle)' }];
  if ('failed' in bundle) return [{ level: 'error', subject: 'bundle', message: `wrangler deploy --dry-run failed: ${bundle.failed}` }];
  const size = `${mib(bundle.rawBytes)} raw, ${mib(bundle.gzipBytes)} gzipped`;
  if (bundle.gzipBytes > LIMITS.paidGzip || bundle.rawBytes > LIMITS.raw) {
    return [
      { level: 'error', subject: 'bundle', message: `${size}: over the Worker size limit (${mib(LIMITS.paidGzip)} gzipped on Paid, ${mib(LIMITS.raw)} raw)` },
    ];
  }
  const out: Finding[] = [];
  if (bundle.gzipBytes > LIMITS.freeGzip)
    out.push({ level: 'warn', subject: 'bundle', message: `${size}: over the Workers Free plan's ${mib(LIMITS.freeGzip)} gzipped; needs Workers Paid` });
  if (out.length === 0)
    out.push({ level: 'info', subject: 'bundle', message: `${size}: within ${mib(LIMITS.freeGzip)} gzipped (Free) and ${mib(LIMITS.paidGzip)} (Paid)` });
  const cpu = bundle.startupCpuMs;
  if (cpu === undefined)
    out.push({ level: 'info', subject: 'startup', message: `not measured (the bundle does not load outside workerd); Workers allow ${LIMITS.startupMs} ms` });
  else if (cpu > STARTUP_RISK_MS)
    out.push({
      level: 'warn',
      subject: 'startup',
      message: `${Math.round(cpu)} ms CPU to load and evaluate the bundle (in Node): past half of Workers' ${LIMITS.startupMs} ms startup limit`,
    });
  else
    out.push({
      level: 'info',
      subject: 'startup',
      message: `${Math.round(cpu)} ms CPU to load and evaluate the bundle (in Node), against Workers' ${LIMITS.startupMs} ms startup limit`,
    });
  return out;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function postureFindings({ vars, env }: PreflightInput): Finding[] {
  const out: Finding[] = [];
  for (const url of asText(vars.FLUSHER_URL)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!URL.canParse(url)) continue; // already an error from the settings parser
    const u = new URL(url);
    if (u.protocol !== 'https:' && !LOOPBACK.has(u.hostname)) {
      out.push({
        level: 'error',
        subject: 'FLUSHER_URL',
        message: `${u.protocol}//${u.host} is not HTTPS; counter batches would cross the network in clear text`,
      });
    }
  }
  if (asText(vars.AUTH_FAIL_MODE) === 'open')
    out.push({ level: 'warn', subject: 'AUTH_FAIL_MODE', message: 'is open: while keys cannot be checked, requests are admitted without a valid key' });
  const pool = Number(asText(vars.DB_POOL_MAX) || '8');
  if (Number.isInteger(pool) && pool > 0 && pool < TINY_POOL)
    out.push({
      level: 'warn',
      subject: 'DB_POOL_MAX',
      message: `is ${pool}: auth lookups, data requests and log tasks share so few connections that a burst queues (at least ${TINY_POOL} advised)`,
    });
  if (env && asText(vars.NEON_LOCAL_WS_PROXY) !== '')
    out.push({ level: 'error', subject: 'NEON_LOCAL_WS_PROXY', message: `is set in --env ${env}; it is for the local dev stack only` });
  return out;
}
