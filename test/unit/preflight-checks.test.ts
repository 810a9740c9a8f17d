/**
 * The preflight's judgement: vars through the worker's own parser, secrets from a file or listed,
 * compatibility settings, bundle size and startup cost, and risky postures — one finding each,
 * never a value.
 */
import { describe, expect, it } from 'vitest';
import { bundleFindings, preflightFindings, requiredSecrets, type PreflightInput } from '../../cli/preflight-checks.js';
import { formatFinding } from '../../cli/preflight-finding.js';

const MiB = 1024 * 1024;
const productionVars = {
  STATS_SINK: 'flusher',
  FLUSHER_URL: 'https://flusher.acme-corp.net',
  DB_POOL_MAX: '8',
  AUTH_FAIL_MODE: 'closed',
  NEON_LOCAL_WS_PROXY: '',
};
const good: PreflightInput = {
  env: 'production',
  vars: productionVars,
  secrets: {
    DATABASE_URL: 'postgres://gw:pw-s3cr3t@ep-x-pooler.eu-central-1.aws.neon.tech/catalog?sslmode=require',
    FLUSH_SIGNING_SECRET: 'f'.repeat(40),
    ADMIN_TOKEN: 'a'.repeat(40),
    KEY_SIGNING_SECRETS: 'k'.repeat(40),
  },
  compatibilityDate: '2026-08-01',
  compatibilityFlags: ['nodejs_compat', 'enable_request_signal'],
  bundle: { rawBytes: 1.2 * MiB, gzipBytes: 0.23 * MiB, startupCpuMs: 170 },
  today: '2026-12-01',
  target: {
    name: 'athena-edge-gateway-production',
    topLevelName: 'athena-edge-gateway',
    requiredSecrets: ['DATABASE_URL', 'FLUSH_SIGNING_SECRET', 'ADMIN_TOKEN', 'KEY_SIGNING_SECRETS'],
    observability: true,
    workersDev: undefined,
    hasRoutes: false,
  },
};
const run = (over: Partial<PreflightInput>) => preflightFindings({ ...good, ...over });
const problems = (over: Partial<PreflightInput>) =>
  run(over)
    .filter((f) => f.level !== 'info')
    .map(formatFinding);

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
    const lines = problems({ secrets: { FLUSH_SIGNING_SECRET: 'short-secret', ADMIN_TOKEN: 'tiny-admin-token', KEY_SIGNING_SECRETS: 'k'.repeat(40) } });
    expect(lines).toEqual([
      'error  DATABASE_URL: secret is missing from the secrets file',
      'error  FLUSH_SIGNING_SECRET: secret must be at least 16 characters (each entry of a comma-separated list)',
      'error  ADMIN_TOKEN: secret must be at least 32 characters (each entry of a comma-separated list)',
    ]);
    expect(lines.join('\n')).not.toMatch(/short-secret|tiny-admin-token/);
    expect(
      problems({
        secrets: { ...good.secrets, ADMIN_TOKEN: '' },
        target: { ...(good.target ?? expect.unreachable()), requiredSecrets: ['DATABASE_URL', 'KEY_SIGNING_SECRETS', 'FLUSH_SIGNING_SECRET'] },
      }),
    ).toEqual(['warn   ADMIN_TOKEN: not set: /__gateway/status and /__gateway/flush stay closed to operators']);
  });

  it('without a secrets file, the needed secrets are listed (not failed), and a secret in [vars] is an error', () => {
    const listed = run({ secrets: undefined });
    expect(listed.filter((f) => f.level === 'error')).toEqual([]);
    expect(listed.find((f) => f.subject === 'secrets')?.message).toContain(
      'DATABASE_URL, FLUSH_SIGNING_SECRET, ADMIN_TOKEN, KEY_SIGNING_SECRETS set with `wrangler secret put <NAME> --env production`',
    );
    expect(problems({ secrets: undefined, vars: { ...productionVars, ADMIN_TOKEN: 'x'.repeat(40) } })).toEqual([
      'error  ADMIN_TOKEN: is a secret but is set in wrangler.toml [vars]; remove it and use `wrangler secret put`',
    ]);
  });

  it('asks the worker’s parser which secrets the vars require, cross-var rules included', () => {
    expect(requiredSecrets({ STATS_SINK: 'direct' }).names).toEqual(['DATABASE_URL']);
    expect(requiredSecrets(productionVars).names).toEqual(['DATABASE_URL', 'FLUSH_SIGNING_SECRET']);
  });

  it('FLUSHER_URL must be HTTPS unless it is loopback; every replica in the list is checked', () => {
    expect(problems({ vars: { ...productionVars, FLUSHER_URL: 'https://a.acme-corp.net, http://b.acme-corp.net:8788' } })).toEqual([
      'error  FLUSHER_URL: http://b.acme-corp.net:8788 is not HTTPS; counter batches would cross the network in clear text',
    ]);
    expect(problems({ env: undefined, vars: { ...productionVars, FLUSHER_URL: 'http://127.0.0.1:8788,http://localhost:9000' } })).toEqual([]);
    expect(problems({ vars: { ...productionVars, FLUSHER_URL: 'flusher.acme-corp.net' } })).toEqual([
      'error  FLUSHER_URL: must be http(s) URLs (comma-separated for several flusher replicas)',
    ]);
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
    expect(lines({ rawBytes: 40 * MiB, gzipBytes: 11 * MiB })).toEqual([
      'error  bundle: 40.00 MiB raw, 11.00 MiB gzipped: over the Worker size limit (10.00 MiB gzipped on Paid, 64.00 MiB raw)',
    ]);
    expect(lines({ failed: 'Could not resolve "pg-native"' })).toEqual(['error  bundle: wrangler deploy --dry-run failed: Could not resolve "pg-native"']);
    expect(lines(undefined)).toEqual(['info   bundle: not built (--no-bundle)']);
  });

  describe('deployment mistakes that parse fine', () => {
    const target = good.target ?? expect.unreachable('good has a target');
    const secrets = good.secrets ?? {};

    it('a placeholder FLUSHER_URL or database host is an error naming the var', () => {
      expect(problems({ vars: { ...productionVars, FLUSHER_URL: 'https://flusher.example.com,https://b.acme-corp.net' } })).toEqual([
        "error  FLUSHER_URL: flusher.example.com is a placeholder (a name reserved for examples): set your flusher's HTTPS URL",
      ]);
      for (const host of ['example.org', 'edge.example', 'flusher.test', 'x.invalid']) {
        expect(problems({ vars: { ...productionVars, FLUSHER_URL: `https://${host}` } })).toHaveLength(1);
      }
      expect(problems({ secrets: { ...secrets, TENANT_DATABASE_URL: 'postgresql://u:p@db.example.com/app' } })).toEqual([
        'error  TENANT_DATABASE_URL: secret points at a placeholder host (a name reserved for examples), not your database',
      ]);
    });

    it('a missing KEY_SIGNING_SECRETS is an error unless the env declares legacy keys only', () => {
      const { KEY_SIGNING_SECRETS: _dropped, ...without } = secrets;
      const [line, ...rest] = problems({ secrets: without });
      expect(rest).toEqual([]);
      expect(line).toMatch(
        /^error  KEY_SIGNING_SECRETS: secret is missing from the secrets file: without it the worker treats every key as legacy and forged keys are no longer refused from memory; set AUTH_LEGACY_KEYS_ONLY = "true"/,
      );
      // Without a secrets file: wrangler.toml's secrets.required must list it.
      expect(problems({ secrets: undefined, target: { ...target, requiredSecrets: ['DATABASE_URL', 'FLUSH_SIGNING_SECRET', 'ADMIN_TOKEN'] } })).toEqual([
        expect.stringMatching(/^error  KEY_SIGNING_SECRETS: is not in \[env\.production\] secrets\.required: without it/),
        'warn   secrets.required: lacks KEY_SIGNING_SECRETS: `wrangler deploy` uploads even while they are unset',
      ]);
      const legacy = { ...productionVars, AUTH_LEGACY_KEYS_ONLY: 'true' };
      expect(problems({ vars: legacy, secrets: without })).toEqual([]);
      expect(run({ vars: legacy, secrets: undefined }).find((f) => f.subject === 'secrets')?.message).toContain(
        'needs DATABASE_URL, FLUSH_SIGNING_SECRET, ADMIN_TOKEN set',
      );
      expect(problems({ vars: { ...legacy, AUTH_ACCEPT_LEGACY_KEYS: 'false' }, secrets: without })).toEqual([
        'error  AUTH_LEGACY_KEYS_ONLY: is true while AUTH_ACCEPT_LEGACY_KEYS=false: no key would be accepted',
      ]);
      // The top level is the dev worker: not held to it.
      expect(problems({ env: undefined, secrets: without })).toEqual([]);
    });

    it("a direct Neon endpoint for the worker's targets is an error in production; the pooled one passes", () => {
      const direct = 'postgresql://gw:pw-s3cr3t@ep-cool-dawn-123456.eu-central-1.aws.neon.tech/catalog?sslmode=require&channel_binding=require';
      const lines = problems({
        secrets: { ...secrets, DATABASE_URL: direct, LOGGING_DATABASE_URL: direct.replace('ep-cool-dawn-123456.', 'ep-cool-dawn-123456-pooler.') },
      });
      expect(lines).toEqual([expect.stringMatching(/^error  DATABASE_URL: secret is Neon's direct endpoint; the worker needs the pooled one/)]);
      expect(lines.join('\n')).not.toContain('pw-s3cr3t');
    });

    it('an [env] name equal to the top-level name is an error: a deploy without --env would overwrite it', () => {
      expect(problems({ target: { ...target, name: 'athena-edge-gateway' } })).toEqual([
        'error  name: [env.production] name is "athena-edge-gateway", the top-level name: a `wrangler deploy` without --env would overwrite this worker with the top-level vars; give [env.production] its own name',
      ]);
    });

    it('warns on Workers Logs off, a workers.dev URL open beside routes, and no secrets.required; a required secret absent from the file is an error', () => {
      expect(problems({ target: { ...target, observability: false, hasRoutes: true, requiredSecrets: undefined } })).toEqual([
        "warn   observability: is not enabled: Workers Logs keeps none of the worker's log lines (add [observability] enabled = true)",
        'warn   workers_dev: routes serve [env.production], yet its *.workers.dev URL answers too: set workers_dev = false',
        'warn   secrets.required: is not declared for [env.production]: `wrangler deploy` uploads even while a secret the worker needs is unset',
      ]);
      expect(problems({ target: { ...target, hasRoutes: true, workersDev: false } })).toEqual([]);
      expect(problems({ secrets: { ...secrets, ADMIN_TOKEN: '' } })).toEqual(['error  ADMIN_TOKEN: is in secrets.required but missing from the secrets file']);
    });
  });
});
