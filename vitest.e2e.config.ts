import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`: whole-process tests (test/e2e/) — `npm run dev` and the console under a
 * pseudo-terminal, the CLI's entry point as a child process, the preflight's real bundle, the
 * served worker's admission and disconnect cancellation, flusher processes killed mid-load. The
 * same global setup as `npm test` (one Postgres, the WebSocket proxy). One file at a time: each
 * starts several processes of its own.
 */
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./test/setup/global.ts'],
    maxWorkers: 1,
    // A test starts several Node + tsx processes in a row, each of which can take many seconds to
    // start on a busy 2-core machine.
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
