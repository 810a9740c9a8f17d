/** Secrets the worker reads that no environment's `secrets.required` lists, so `wrangler types` cannot know them. */
type OptionalSecrets = { AUTH_DATABASE_URL?: string; LOGGING_DATABASE_URL?: string; TENANT_DATABASE_URL?: string; FLUSH_SIGNING_SECRET?: string };

/**
 * The worker's bindings: `Env` is generated from wrangler.toml by `wrangler types` into
 * worker-configuration.d.ts (committed; CI fails when it is stale) — vars, required secrets and the
 * RATE_LIMITER Durable Object namespace. Vars and secrets are strings, parsed by config.ts.
 */
export type Bindings = Env & OptionalSecrets;
