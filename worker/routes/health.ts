/** `GET /health` and `GET /`: liveness, no auth and no database access. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { VERSION } from '../version.js';

export const health = new Hono<AppEnv>();

health.get('/health', (c) => c.json({ status: 'ok', version: VERSION }));
health.get('/', (c) => c.json({ status: 'ok', version: VERSION, service: 'athena-edge-gateway' }));
