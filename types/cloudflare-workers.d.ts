/**
 * For the Node-side typecheck only (tsconfig.json). Unit tests, the CLI and the benchmark import
 * worker modules, and worker-configuration.d.ts (from `wrangler types`) names the worker's entry,
 * so tsc reaches worker/ratelimit/limiter-object.ts, which imports workerd's `cloudflare:workers`.
 * Node's types have no such module; this is its one export the worker uses. The worker itself is
 * checked against @cloudflare/workers-types (test/worker/tsconfig.json).
 */
declare module 'cloudflare:workers' {
  export abstract class DurableObject {
    protected constructor(ctx: unknown, env: unknown);
  }
}
