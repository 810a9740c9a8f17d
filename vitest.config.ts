import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { TEST_KEY_SIGNING_SECRET } from './test/support/key-signing.js';
import { TEST_ADMIN_TOKEN } from './test/support/admin-token.js';

/**
 * Three projects: unit (pure modules, node), integration (node + real Postgres), worker (inside
 * workerd, reaching real Postgres through the WebSocket proxy). One global setup starts Postgres:
 * it is declared on the root only, because vitest runs a project-level globalSetup once per project
 * (three servers), while the root's runs once and its provide() values reach every project.
 */
export default defineConfig({
  test: {
    globalSetup: ['./test/setup/global.ts'],
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Tests that run the CLI as child processes start several Node + tsx processes in a row:
          // one took up to 17.7 s at load average 14 on 2 cores, so 60 s was not enough there.
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
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
                // Never due: a request recording counters would otherwise keep its waitUntil (which
                // fetchWith awaits) open until they are due. Counter tests set their own interval.
                STATS_FLUSH_INTERVAL_MS: '600000',
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
