/**
 * The preflight's judgement: vars through the worker's own parser, secrets from a file or listed,
 * compatibility settings, bundle size and startup cost, and risky postures — one finding each,
 * never a value.
 */
import { describe, expect, it } from 'vitest';
import { bundleFindings, formatFinding, preflightFindings, requiredSecrets, type PreflightInput } from '../../cli/preflight-checks.js';

const MiB = 1024 * 1024;
const productionVars = { STATS_SINK: 'flusher', FLUSHER_URL: 'https://flusher.example.com', DB_POOL_MAX: '8', AUTH_FAIL_MODE: 'closed', NEON_LOCAL_WS_PROXY: '' };
const good: PreflightInput = {
  env: 'production',
  vars: productionVars,
  secrets: {
    DATABASE_URL: 'postgres://gw:pw-s3cr3t@ep-x-pooler.eu-central-1.aws.neon.tech/catalog?sslmode=require',
    FLUSH_SIGNING_SECRET: 'f'.repeat(40),
    ADMIN_TOKEN: 'a'.repeat(40),
  },
  compatibilityDate: '2026-08-01',
  compatibilityFlags: ['nodejs_compat', 'enable_request_signal'],
  bundle: { rawBytes: 1.2 * MiB, gzipBytes: 0.23 * MiB, startupCpuMs: 170 },
  today: '2026-12-01',
};
const run = (over: Partial<PreflightInput>) => preflightFindings({ ...good, ...over });
const problems = (over: Partial<PreflightInput>) => run(over).filter((f) => f.level !== 'info').map(formatFinding);

describe('preflight findings', () => {
  it('a sound production configuration has no error or warning', () => {
    expect(problems({})).toEqual([]);
    expect(run({}).map((f) => f.subject)).toEqual(['bundle', 'startup']);
  });

  it('names each bad var with the worker parser’s own words, one line each, errors first', () => {
    const lines = problems({ vars: { ...productionVars, DB_POOL_MAX: 'lots', REQUEST_LOG: 'sometimes', AUTH_FAIL_MODE: 'open' } });
    expect(lines).toEqual([
      'error  DB_POOL_MAX: must be an integer between 1 and 1000',
      'error  REQUEST_LOG: must be one of all, errors, off',
      'warn   AUTH_FAIL_MODE: is open: while keys cannot be checked, requests are admitted without a valid key',
    ]);
  });

  it('secrets: missing or invalid ones in the file are errors naming the var and never showing a value', () => {
    const lines = problems({ secrets: { FLUSH_SIGNING_SECRET: 'short-secret', ADMIN_TOKEN: 'tiny-admin-token' } });
    expect(lines).toEqual([
      'error  DATABASE_URL: secret is missing from the secrets file',
      'error  FLUSH_SIGNING_SECRET: secret must be at least 16 characters (each entry of a comma-separated list)',
      'error  ADMIN_TOKEN: secret must be at least 32 characters (each entry of a comma-separated list)',
    ]);
    expect(lines.join('\n')).not.toMatch(/short-secret|tiny-admin-token/);
    expect(problems({ secrets: { ...good.secrets, ADMIN_TOKEN: '' } })).toEqual(['warn   ADMIN_TOKEN: not set: /__gateway/status and /__gateway/flush stay closed to operators']);
  });

  it('without a secrets file, the needed secrets are listed (not failed), and a secret in [vars] is an error', () => {
    const listed = run({ secrets: undefined });
    expect(listed.filter((f) => f.level === 'error')).toEqual([]);
    expect(listed.find((f) => f.subject === 'secrets')?.message).toContain('DATABASE_URL, FLUSH_SIGNING_SECRET, ADMIN_TOKEN set with `wrangler secret put <NAME> --env production`');
    expect(problems({ secrets: undefined, vars: { ...productionVars, ADMIN_TOKEN: 'x'.repeat(40) } })).toEqual([
      'error  ADMIN_TOKEN: is a secret but is set in wrangler.toml [vars]; remove it and use `wrangler secret put`',
    ]);
  });

  it('asks the worker’s parser which secrets the vars require, cross-var rules included', () => {
    expect(requiredSecrets({ STATS_SINK: 'direct' }).names).toEqual(['DATABASE_URL']);
    expect(requiredSecrets(productionVars).names).toEqual(['DATABASE_URL', 'FLUSH_SIGNING_SECRET']);
  });

  it('FLUSHER_URL must be HTTPS unless it is loopback; every replica in the list is checked', () => {
    expect(problems({ vars: { ...productionVars, FLUSHER_URL: 'https://a.example.com, http://b.example.com:8788' } })).toEqual([
      'error  FLUSHER_URL: http://b.example.com:8788 is not HTTPS; counter batches would cross the network in clear text',
    ]);
    expect(problems({ env: undefined, vars: { ...productionVars, FLUSHER_URL: 'http://127.0.0.1:8788,http://localhost:9000' } })).toEqual([]);
    expect(problems({ vars: { ...productionVars, FLUSHER_URL: 'flusher.example.com' } })).toEqual(['error  FLUSHER_URL: must be http(s) URLs (comma-separated for several flusher replicas)']);
  });

  it('warns on a tiny DB_POOL_MAX, an unknown var, a missing request-signal flag; refuses local-only vars and a future compatibility date', () => {
    expect(
      problems({
        vars: { ...productionVars, DB_POOL_MAX: '2', DB_POOL_SIZE: '20', NEON_LOCAL_WS_PROXY: 'ws://127.0.0.1:5433' },
        compatibilityFlags: ['nodejs_compat'],
        compatibilityDate: '2027-01-01',
      }),
    ).toEqual([
      'error  compatibility_date: 2027-01-01 is in the future; Cloudflare refuses the upload',
      'error  NEON_LOCAL_WS_PROXY: is set in --env production; it is for the local dev stack only',
      'warn   DB_POOL_SIZE: is not a var the worker reads (a typo?)',
      'warn   compatibility_flags: missing enable_request_signal: client disconnects never abort request.signal, so work for a departed client still runs',
      'warn   DB_POOL_MAX: is 2: auth lookups, data requests and log tasks share so few connections that a burst queues (at least 4 advised)',
    ]);
    expect(problems({ compatibilityFlags: [] })[0]).toBe('error  compatibility_flags: missing nodejs_compat (the Postgres driver and node: built-ins need it)');
  });

  it('bundle size against the Free and Paid limits, and startup CPU against the 1 s limit', () => {
    const lines = (b: Parameters<typeof bundleFindings>[0]) => bundleFindings(b).map(formatFinding);
    expect(lines({ rawBytes: 14 * MiB, gzipBytes: 4 * MiB, startupCpuMs: 620 })).toEqual([
      "warn   bundle: 14.00 MiB raw, 4.00 MiB gzipped: over the Workers Free plan's 3.00 MiB gzipped; needs Workers Paid",
      "warn   startup: 620 ms CPU to load and evaluate the bundle (in Node): past half of Workers' 1000 ms startup limit",
    ]);
    expect(lines({ rawBytes: 40 * MiB, gzipBytes: 11 * MiB })).toEqual(['error  bundle: 40.00 MiB raw, 11.00 MiB gzipped: over the Worker size limit (10.00 MiB gzipped on Paid, 64.00 MiB raw)']);
    expect(lines({ failed: 'Could not resolve "pg-native"' })).toEqual(['error  bundle: wrangler deploy --dry-run failed: Could not resolve "pg-native"']);
    expect(lines(undefined)).toEqual(['info   bundle: not built (--no-bundle)']);
  });
});
