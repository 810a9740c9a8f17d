/**
 * `GET /health` and `GET /` (also `/db/health`, `/db/`, `/db`, where an SDK configured with the
 * unified root URL probes): liveness, no auth and no database access. The body is what the
 * SDK's `health()`, `system.compatibility()` and `verifyConnection()` read.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { ATHENA_RELEASE, VERSION } from '../version.js';

export const health = new Hono<AppEnv>();

const body = () => ({
  status: 'ok',
  message: 'Athena edge gateway is running',
  version: ATHENA_RELEASE.version,
  release: ATHENA_RELEASE,
  gateway_version: VERSION,
  service: 'athena-edge-gateway',
});

for (const path of ['/health', '/', '/db/health', '/db', '/db/']) health.get(path, (c) => c.json(body()));
