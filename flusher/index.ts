/**
 * `npm run flusher`: the origin flush service. Parses env (exits 1 naming each bad variable),
 * serves, and on SIGTERM/SIGINT shuts down gracefully: stop accepting, commit the open group,
 * answer it, close the pool, exit 0.
 */
import { parseFlusherEnv } from './config.js';
import { startFlusher } from './server.js';

function logLine(level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
}

const parsed = parseFlusherEnv(process.env);
if (!parsed.ok) {
  for (const e of parsed.errors) logLine('error', 'flusher_misconfigured', { problem: e });
  process.exit(1);
}
const { config } = parsed;

const flusher = await startFlusher({
  ...config,
  defaultMetrics: true,
  // pg error messages never contain the password; the URL itself is never logged.
  onError: (event, err) => logLine('warn', event, { message: err instanceof Error ? err.message : String(err) }),
});
logLine('info', 'flusher_listening', { url: flusher.url, groupCommitMs: config.groupCommitMs, poolMax: config.poolMax });

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    logLine('info', 'flusher_draining', { signal });
    flusher.stop().then(
      () => {
        logLine('info', 'flusher_stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logLine('error', 'flusher_stop_failed', { message: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  });
}
