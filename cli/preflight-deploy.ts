/**
 * The preflight's deployment checks, pure: what makes a `wrangler deploy` go silently wrong
 * although every var parses — the worker name shared with the top level, a placeholder host, a
 * direct Neon endpoint where each isolate's connections need the pooler, a production worker without
 * key-signing secrets, Workers Logs off, a workers.dev URL left open beside a custom domain.
 * Findings name vars and hosts the operator wrote in wrangler.toml, never a secret's value.
 */
import type { Finding } from './preflight-finding.js';

/** What wrangler resolved for the environment, beyond its vars. */
export type DeployTarget = {
  /** The worker name `wrangler deploy --env <env>` uploads to. */
  name: string | undefined;
  /** The top-level name: what a `wrangler deploy` without `--env` uploads to. */
  topLevelName: string | undefined;
  /** `secrets.required` of the environment (undefined: not declared). */
  requiredSecrets: readonly string[] | undefined;
  observability: boolean;
  workersDev: boolean | undefined;
  hasRoutes: boolean;
};

type DeployInput = {
  env: string | undefined;
  vars: Record<string, string>;
  secrets: Record<string, string> | undefined;
  target: DeployTarget | undefined;
};

/** The worker's connection targets: each isolate opens its own connections to them (pooled, per docs/deploy.md). */
const POOLED_URL_SECRETS = ['DATABASE_URL', 'AUTH_DATABASE_URL', 'LOGGING_DATABASE_URL', 'TENANT_DATABASE_URL'] as const;

/** Names reserved for examples (RFC 2606 / RFC 6761): a URL on one was copied, not configured. */
function isPlaceholderHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (/(^|\.)example\.(com|net|org)$/.test(h)) return true;
  const labels = h.split('.');
  return labels.includes('example') || /\.(invalid|test)$/.test(h) || h === 'invalid' || /[<>]/.test(h);
}

const hostOf = (url: string): string | undefined => (URL.canParse(url) ? new URL(url).hostname : undefined);

/** A Neon endpoint host without `-pooler` in its first label: the direct (unpooled) endpoint. */
function isDirectNeonHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (!h.endsWith('.neon.tech')) return false;
  return !(h.split('.')[0] ?? '').endsWith('-pooler');
}

/** Every deployment finding for this environment. */
export function deployFindings(input: DeployInput): Finding[] {
  return [...nameFindings(input), ...placeholderFindings(input), ...poolerFindings(input), ...keySigningFindings(input), ...platformFindings(input)];
}

function nameFindings({ env, target }: DeployInput): Finding[] {
  if (!env || !target?.name || target.name !== target.topLevelName) return [];
  return [
    {
      level: 'error',
      subject: 'name',
      message: `[env.${env}] name is "${target.name}", the top-level name: a \`wrangler deploy\` without --env would overwrite this worker with the top-level vars; give [env.${env}] its own name`,
    },
  ];
}

function placeholderFindings({ vars, secrets }: DeployInput): Finding[] {
  const out: Finding[] = [];
  for (const url of (vars.FLUSHER_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const host = hostOf(url);
    if (host && isPlaceholderHost(host))
      out.push({ level: 'error', subject: 'FLUSHER_URL', message: `${host} is a placeholder (a name reserved for examples): set your flusher's HTTPS URL` });
  }
  for (const name of POOLED_URL_SECRETS) {
    const host = hostOf(secrets?.[name] ?? '');
    if (host && isPlaceholderHost(host))
      out.push({ level: 'error', subject: name, message: 'secret points at a placeholder host (a name reserved for examples), not your database' });
  }
  return out;
}

function poolerFindings({ env, secrets }: DeployInput): Finding[] {
  if (!env || !secrets) return [];
  return POOLED_URL_SECRETS.filter((name) => isDirectNeonHost(hostOf(secrets[name] ?? '') ?? '')).map((name) => ({
    level: 'error' as const,
    subject: name,
    message:
      "secret is Neon's direct endpoint; the worker needs the pooled one (host ep-…-pooler.…): every isolate opens its own connections, which only the pooler multiplexes (docs/deploy.md#1-neon-project-databases-connection-strings)",
  }));
}

const LEGACY_ONLY_HINT = 'set AUTH_LEGACY_KEYS_ONLY = "true" in its vars to deploy so on purpose';

function keySigningFindings({ env, vars, secrets, target }: DeployInput): Finding[] {
  if (!env) return [];
  const legacyOnly = vars.AUTH_LEGACY_KEYS_ONLY === 'true';
  if (legacyOnly) {
    if (vars.AUTH_ACCEPT_LEGACY_KEYS === 'false')
      return [{ level: 'error', subject: 'AUTH_LEGACY_KEYS_ONLY', message: 'is true while AUTH_ACCEPT_LEGACY_KEYS=false: no key would be accepted' }];
    if (secrets?.KEY_SIGNING_SECRETS)
      return [
        {
          level: 'warn',
          subject: 'AUTH_LEGACY_KEYS_ONLY',
          message: 'is true but the secrets file has KEY_SIGNING_SECRETS: keys are tagged and checked; drop one of the two',
        },
      ];
    return [];
  }
  const consequence = 'without it the worker treats every key as legacy and forged keys are no longer refused from memory';
  if (secrets && !secrets.KEY_SIGNING_SECRETS)
    return [{ level: 'error', subject: 'KEY_SIGNING_SECRETS', message: `secret is missing from the secrets file: ${consequence}; ${LEGACY_ONLY_HINT}` }];
  if (!secrets && target?.requiredSecrets && !target.requiredSecrets.includes('KEY_SIGNING_SECRETS')) {
    return [
      { level: 'error', subject: 'KEY_SIGNING_SECRETS', message: `is not in [env.${env}] secrets.required: ${consequence}; add it, or ${LEGACY_ONLY_HINT}` },
    ];
  }
  return [];
}

/** The environment's secrets.required against the secrets the worker needs: deploy stops only on listed ones. */
export function unlistedSecrets(needed: readonly string[], target: DeployTarget | undefined): string[] {
  if (!target?.requiredSecrets) return [];
  const listed = target.requiredSecrets;
  return needed.filter((name) => !listed.includes(name));
}

function platformFindings({ env, target }: DeployInput): Finding[] {
  if (!env || !target) return [];
  const out: Finding[] = [];
  if (!target.observability)
    out.push({
      level: 'warn',
      subject: 'observability',
      message: "is not enabled: Workers Logs keeps none of the worker's log lines (add [observability] enabled = true)",
    });
  if (target.hasRoutes && target.workersDev !== false)
    out.push({ level: 'warn', subject: 'workers_dev', message: `routes serve [env.${env}], yet its *.workers.dev URL answers too: set workers_dev = false` });
  if (target.requiredSecrets === undefined)
    out.push({
      level: 'warn',
      subject: 'secrets.required',
      message: `is not declared for [env.${env}]: \`wrangler deploy\` uploads even while a secret the worker needs is unset`,
    });
  return out;
}
