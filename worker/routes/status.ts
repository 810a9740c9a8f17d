/**
 * `GET /__gateway/status`: this isolate's view of itself for operators — budgets per target, key
 * cache, stats batcher, telemetry limiter, effective settings with secrets redacted. Always guarded
 * by ADMIN_TOKEN (401 without it, and 401 when no token is configured). Reads memory only, no DB.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import { requireAdmin } from '../middleware/admin-token.js';
import { isolateStatus } from './status-document.js';

export const status = new Hono<AppEnv>();

status.get('/__gateway/status', requireAdmin(), (c) => {
  c.header('cache-control', 'no-store');
  return c.json(isolateStatus(c.get('ctx').isolate, c.get('ctx').requestId, Date.now()));
});
