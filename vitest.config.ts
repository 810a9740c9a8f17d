import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { TEST_KEY_SIGNING_SECRET } from './test/support/key-signing.js';
import { TEST_ADMIN_TOKEN } from './test/support/admin-token.js';
import { ProjectOrderSequencer } from './test/setup/sequencer.js';

/**
 * `npm test`: four projects: unit (pure modules, node), integration (node + real Postgres, the CLI
 * in-process, the run's one served worker), worker (inside workerd, reaching real Postgres through
 * the WebSocket proxy) and worker-http (the data-path and auth files of worker again, over the
 * proxy's Neon HTTP endpoint). Whole-process tests are the e2e tier: vitest.e2e.config.ts, test/e2e/.
 * One global setup starts Postgres: it is declared on the root only, because vitest runs a
 * project-level globalSetup once per project (three servers), while the root's runs once and its
 * provide() values reach every project.
 */
/** Files run on both transports: the data path, transactions, auth, permits, deadlines, sinks. */
const HTTP_MATRIX = [
  'test/worker/http-transport.test.ts',
  'test/worker/gateway-fetch.test.ts',
  'test/worker/gateway-mutations.test.ts',
  'test/worker/gateway-transaction.test.ts',
  'test/worker/gateway-rpc.test.ts',
  'test/worker/gateway-query.test.ts',
  'test/worker/gateway-errors.test.ts',
  'test/worker/hostile-errors.test.ts',
  'test/worker/auth.test.ts',
  'test/worker/auth-batch.test.ts',
  'test/worker/auth-admission.test.ts',
  'test/worker/tenant-deadlines.test.ts',
  'test/worker/with-session.test.ts',
  'test/worker/counters-direct-sink.test.ts',
  'test/worker/telemetry.test.ts',
  'test/worker/gateway-bounded.test.ts',
  'test/worker/gateway-hostile.test.ts',
  'test/worker/gateway-privilege.test.ts',
  'test/worker/gateway-structured.test.ts',
  'test/worker/hostile-embeds.test.ts',
  'test/worker/hostile-query-text.test.ts',
  'test/worker/hostile-request-log.test.ts',
  'test/worker/hostile-transaction.test.ts',
  'test/worker/auth-cache.test.ts',
  'test/worker/auth-cancel.test.ts',
  'test/worker/auth-directory-unavailable.test.ts',
  'test/worker/auth-fail-open.test.ts',
  'test/worker/auth-interleaving.test.ts',
  'test/worker/session-bounds.test.ts',
  'test/worker/counters.test.ts',
];

/** The worker's npm imports, as it spells them. */
const OPTIMIZED_DEPS = ['zod', 'drizzle-orm', 'drizzle-orm/pg-core', 'hono', 'hono/http-exception', '@neondatabase/serverless', 'pgsql-ast-parser'];

/** A project of worker tests inside workerd, its bindings pinned on top of wrangler.toml's vars. */
function workerProject(name: string, include: string[], vars: Record<string, string>, exclude: string[] = []) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          // Pinned: a local `.dev.vars` from `npm run dev` is also read by the plugin, and its
          // flusher sink/secrets must not leak into tests (CI has no such file).
          bindings: {
            STATS_SINK: 'direct',
            FLUSHER_URL: '',
            FLUSH_SIGNING_SECRET: '',
            DATABASE_URL: inject('databaseUrl'),
            TENANT_DATABASE_URL: inject('tenantDatabaseUrl'),
            NEON_LOCAL_WS_PROXY: inject('wsProxy'),
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            KEY_SIGNING_SECRETS: TEST_KEY_SIGNING_SECRET,
            // Tests create clients and keys and use them at once: an unknown name or legacy
            // prefix always re-reads the directory (single-flight) instead of waiting out 1 s.
            AUTH_DIRECTORY_RECHECK_MS: '0',
            // Likewise for tables created mid-file: a miss re-reads the tenant's catalog at once.
            CATALOG_RECHECK_MS: '0',
            // Never due: a request recording counters would otherwise keep its waitUntil (which
            // fetchWith awaits) open until they are due. Counter tests set their own interval.
            STATS_FLUSH_INTERVAL_MS: '600000',
            ...vars,
          },
        },
      })),
    ],
    // Files share their runner's workerd (one per maxWorkers slot) instead of starting one each:
    // the runtime start and the module import were most of this project's time. Files stay apart
    // by their vars (fetchWith, TEST_ISOLATE: separate isolate state) and unique names.
    test: {
      name,
      include,
      exclude,
      isolate: false,
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // Each runner fetches every module it imports from Vite one at a time: the worker's
      // dependencies pre-bundled are a few modules instead of some 230 (zod, drizzle, hono).
      deps: { optimizer: { ssr: { enabled: true, include: OPTIMIZED_DEPS } } },
    },
  };
}

export default defineConfig({
  test: {
    globalSetup: ['./test/setup/global.ts'],
    // Most files wait on Postgres, workerd or a served worker rather than compute: run several at
    // once (vitest's default on 2 cores is one). One value for every project, so they share one
    // queue; TEST_MAX_WORKERS overrides it (vitest's --maxWorkers too). On 2 cores, 5 measured
    // best: `npm test` 168 s wall against 182 s with 4 and 180 s with 6 (quiet, 2026-12-08).
    maxWorkers: Number(process.env.TEST_MAX_WORKERS) || 5,
    // Integration, then the worker projects, then the seconds-long unit files (test/setup/sequencer.ts).
    sequence: { sequencer: ProjectOrderSequencer },
    projects: [
      {
        // Not isolated: a fork runs its files one after another on one module graph instead of
        // importing vitest, pg, drizzle and wrangler again for each (most of the node projects'
        // CPU time). A spy is restored before the next test, so none outlives its file.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', isolate: false, restoreMocks: true },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          isolate: false,
          restoreMocks: true,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      workerProject('worker', ['test/worker/**/*.test.ts'], { DB_TRANSPORT: 'ws' }, ['test/worker/http-transport.test.ts']),
      // The same data-path and auth files again with every one-shot statement over Neon's HTTP
      // endpoint (DB_TRANSPORT=http, served by the local proxy at /sql): a matrix over the files
      // that exercise the transport, not the whole tier twice (npm test's time).
      workerProject('worker-http', HTTP_MATRIX, { DB_TRANSPORT: 'http' }),
    ],
  },
});
