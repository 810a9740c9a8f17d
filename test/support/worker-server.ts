/**
 * Serves the gateway worker over real HTTP on 127.0.0.1 from Node, as production runs it: the
 * deploy bundle (`wrangler deploy --dry-run`, built once per run by test/setup/global.ts) in
 * `workerd serve`, so Node-side clients such as the `@xylex-group/athena` SDK can call it.
 * `bindings` override wrangler.toml's vars; nothing else is read (no `.dev.vars`).
 * (Not wrangler's dev server: each start bundled the worker again and ran a proxy worker in front
 * of it — 1.7 s a start against 0.4 s, and the proxy drops a disconnected request without
 * firing its signal.)
 */
import { inject } from 'vitest';
import { startWorkerd, type Bundle } from '../../bench/workerd.js';
import { freePort } from '../../dev/ports.js';

export type WorkerServer = { url: string; close(): Promise<void> };

/**
 * Starts the worker with `bindings` (vars and secrets alike); `close()` stops it. WebSocket
 * sessions unless `bindings` name DB_TRANSPORT: the served tests count sessions, connections and
 * cancel requests on that path; test/integration/transport-served.test.ts serves both transports.
 */
export async function startWorkerServer(bindings: Record<string, string>, bundle: Bundle = inject('workerBundle')): Promise<WorkerServer> {
  bindings = { DB_TRANSPORT: 'ws', ...bindings };
  // A free port may be taken between its discovery and workerd's bind: then another one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const server = await startWorkerd(bundle, port, bindings, `served-${port}`);
      return { url: server.url, close: () => server.stop() };
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}
