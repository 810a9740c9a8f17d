/**
 * A small control server (127.0.0.1, test runs only) through which tests inside workerd — which
 * cannot spawn Node processes — start, stop and restart real flushers against the test catalog DB.
 * Each test gets its own flusher, so stopping one never disturbs another test file.
 *   POST /flushers            → { id, url }   start a new flusher on a free port
 *   POST /flushers/:id/stop   → graceful stop (drain, close); the port then refuses connections
 *   POST /flushers/:id/start  → start again on the same port
 *   GET  /flushers/:id/metrics → its Prometheus text
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../dev/ports.js';
import { startFlusher, type RunningFlusher } from '../../flusher/server.js';

/** The signing secret every test flusher and the workers under test share. */
export const TEST_FLUSH_SECRET = 'worker-tests-flush-signing-secret';

export type FlusherControl = { url: string; close(): Promise<void> };

export async function startFlusherControl(databaseUrl: string): Promise<FlusherControl> {
  const flushers = new Map<string, { port: number; running: RunningFlusher | undefined }>();
  const launch = (port: number) =>
    startFlusher({
      databaseUrl,
      signingSecrets: [TEST_FLUSH_SECRET],
      host: '127.0.0.1',
      port,
      groupCommitMs: 5,
      maxGroupRows: 20_000,
      poolMax: 4,
      maxBodyBytes: 8 * 1024 * 1024,
    });

  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/flushers(?:\/([0-9a-f-]{36})\/(stop|start|metrics))?$/.exec(req.url ?? '');
    const work = async () => {
      if (!m) return answer(404, { error: 'not found' });
      const [, id, action] = m;
      if (!id) {
        const running = await launch(await freePort());
        const newId = crypto.randomUUID();
        flushers.set(newId, { port: running.port, running });
        return answer(200, { id: newId, url: running.url });
      }
      const entry = flushers.get(id);
      if (!entry) return answer(404, { error: 'unknown flusher' });
      if (action === 'stop') {
        await entry.running?.stop();
        entry.running = undefined;
        return answer(200, { stopped: true });
      }
      if (action === 'start') {
        entry.running ??= await launch(entry.port);
        return answer(200, { url: entry.running.url });
      }
      if (!entry.running) return answer(409, { error: 'stopped' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(await entry.running.metrics.registry.metrics());
    };
    work().catch((err: unknown) => answer(500, { error: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...flushers.values()].map((f) => f.running?.stop()));
    },
  };
}
