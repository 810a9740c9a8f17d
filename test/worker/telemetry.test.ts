/**
 * Telemetry end to end inside workerd: the request-log middleware and emitTelemetry write real rows
 * to the catalog DB — request log per REQUEST_LOG, auth attempts, admission events, key last-used —
 * and the events of one request go out as one limiter task.
 */
import { Hono } from 'hono';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../worker/env.js';
import { isolateFor } from '../../worker/isolate.js';
import { requestContext } from '../../worker/middleware/request-context.js';
import { onError } from '../../worker/middleware/errors.js';
import { emitTelemetry } from '../../worker/telemetry/emit.js';
import { requestLog } from '../../worker/middleware/request-log.js';
import { telemetrySnapshot } from '../../worker/telemetry/task.js';
import { GatewayError } from '../../worker/errors.js';
import { baseEnv, fetchWith } from './harness.js';
import { createClient, createKey, sql } from './seed.js';

const rid = (tag: string) => `t-${tag}-${crypto.randomUUID()}`;
const isolateOf = (vars: Record<string, string>) => {
  const entry = isolateFor({ ...baseEnv, ...vars });
  if (!entry.ok) throw new Error(`bad test vars: ${entry.variable}`);
  return entry.isolate;
};

describe('request log (REQUEST_LOG)', () => {
  it('all: every request becomes one gateway_request_log row', async () => {
    const id = rid('all');
    const res = await fetchWith({ REQUEST_LOG: 'all' }, 'http://gateway/health', { headers: { 'x-request-id': id } });
    expect(res.status).toBe(200);
    const rows = await sql('SELECT method, path, status, error_code, client_name, key_prefix, duration_ms FROM gateway_request_log WHERE request_id = $1', [
      id,
    ]);
    expect(rows).toEqual([
      { method: 'GET', path: '/health', status: 200, error_code: null, client_name: null, key_prefix: null, duration_ms: expect.any(Number) },
    ]);
  });

  it('errors: successes are not logged, errors are, with the envelope error code and the client header', async () => {
    const ok = rid('ok');
    const bad = rid('bad');
    await fetchWith({ REQUEST_LOG: 'errors' }, 'http://gateway/health', { headers: { 'x-request-id': ok } });
    const res = await fetchWith({ REQUEST_LOG: 'errors' }, 'http://gateway/nope', {
      headers: { 'x-request-id': bad, 'x-athena-client': 'acme' },
    });
    expect(res.status).toBe(404);
    expect(await sql('SELECT 1 FROM gateway_request_log WHERE request_id = $1', [ok])).toHaveLength(0);
    expect(await sql('SELECT path, status, error_code, client_name FROM gateway_request_log WHERE request_id = $1', [bad])).toEqual([
      { path: '/nope', status: 404, error_code: 'not_found', client_name: 'acme' },
    ]);
  });

  it('a key pasted into a failing URL is not stored: path and query string are scrubbed like headers', async () => {
    const id = rid('scrub');
    const client = await createClient();
    const { key, prefix } = await createKey(client);
    const secret = key.slice(prefix.length + 1);
    const url = `http://gateway/gateway/${key}?apikey=${encodeURIComponent(key)}&table_name=users&token=t0p-s3cret&note=${key.replace('_', '%5F')}`;
    const res = await fetchWith({ REQUEST_LOG: 'errors' }, url, { headers: { 'x-request-id': id, 'x-athena-client': client } });
    expect(res.status).toBe(404);
    const rows = await sql<{ path: string; error_code: string }>('SELECT path, error_code FROM gateway_request_log WHERE request_id = $1', [id]);
    expect(rows).toEqual([
      { path: `/gateway/${prefix}_[redacted]?apikey=[redacted]&table_name=users&token=[redacted]&note=[redacted]`, error_code: 'unsupported_operation' },
    ]);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(rows)).not.toContain('t0p-s3cret');
  });

  it('off: nothing is logged, not even errors', async () => {
    const id = rid('off');
    await fetchWith({ REQUEST_LOG: 'off' }, 'http://gateway/nope', { headers: { 'x-request-id': id } });
    expect(await sql('SELECT 1 FROM gateway_request_log WHERE request_id = $1', [id])).toHaveLength(0);
  });
});

describe('events of one request', () => {
  // A route that emits what the auth path would (auth attempt, admission 503) and then fails.
  const app = new Hono<AppEnv>();
  app.use(requestContext());
  app.use(requestLog());
  app.get('/probe', (c) => {
    const ctx = c.var.ctx;
    c.set('counted', { tableName: 'public.things', operation: 'read' });
    emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.var.ctx.requestId, clientName: 'acme', keyPrefix: 'ath_abcdefghij', reason: 'revoked_key' });
    emitTelemetry(ctx, { kind: 'auth_attempt', requestId: c.var.ctx.requestId, clientName: 'acme', keyPrefix: null, reason: 'missing_key' });
    emitTelemetry(ctx, { kind: 'admission', requestId: c.var.ctx.requestId, target: '127.0.0.1:5432/x', purpose: 'auth', waitedMs: 12, inUse: 8, waiting: 3 });
    // Background purposes are not 503s: never written.
    emitTelemetry(ctx, {
      kind: 'admission',
      requestId: c.var.ctx.requestId,
      target: '127.0.0.1:5432/x',
      purpose: 'logging',
      waitedMs: 1,
      inUse: 8,
      waiting: 0,
    });
    throw new GatewayError('api_key_validation_unavailable', 'API key validation unavailable');
  });
  app.onError(onError);

  it('are written together by one task: request log, auth attempts and admission rows', async () => {
    const vars = { REQUEST_LOG: 'errors', TEST_ISOLATE: 'one-task' };
    const before = telemetrySnapshot(isolateOf(vars).services.telemetry).accepted;
    const id = rid('probe');
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request('http://gateway/probe', { headers: { 'x-request-id': id } }), { ...baseEnv, ...vars }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);

    expect(await sql('SELECT status, error_code, table_name, operation FROM gateway_request_log WHERE request_id = $1', [id])).toEqual([
      { status: 503, error_code: 'api_key_validation_unavailable', table_name: 'public.things', operation: 'read' },
    ]);
    expect(await sql('SELECT client_name, key_prefix, reason FROM auth_attempt_log WHERE request_id = $1 ORDER BY id', [id])).toEqual([
      { client_name: 'acme', key_prefix: 'ath_abcdefghij', reason: 'revoked_key' },
      { client_name: 'acme', key_prefix: null, reason: 'missing_key' },
    ]);
    expect(await sql('SELECT target, purpose, waited_ms, in_use, waiting FROM admission_events WHERE request_id = $1', [id])).toEqual([
      { target: '127.0.0.1:5432/x', purpose: 'auth', waited_ms: 12, in_use: 8, waiting: 3 },
    ]);
    const snap = telemetrySnapshot(isolateOf(vars).services.telemetry);
    expect(snap.accepted - before).toBe(1);
    expect(snap.written).toMatchObject({ request: 1, auth_attempt: 2, admission: 1 });
    expect(snap.inFlight).toBe(0);
  });
});

describe('requests sharing an x-request-id', () => {
  // The id is the client's to choose: each request's events must still stay its own.
  const gates = new Map<string, Promise<void>>();
  const app = new Hono<AppEnv>();
  app.use(requestContext());
  app.use(requestLog());
  app.get('/tagged/:tag', async (c) => {
    const tag = c.req.param('tag');
    emitTelemetry(c.var.ctx, { kind: 'auth_attempt', requestId: c.var.ctx.requestId, clientName: tag, keyPrefix: null, reason: 'unknown_key' });
    await gates.get(tag);
    emitTelemetry(c.var.ctx, { kind: 'auth_attempt', requestId: c.var.ctx.requestId, clientName: tag, keyPrefix: null, reason: 'revoked_key' });
    return c.text(tag);
  });

  it('keep their own batches: the second one ends and is written while the first still runs', async () => {
    const vars = { REQUEST_LOG: 'all', TEST_ISOLATE: 'shared-request-id' };
    const id = rid('shared');
    let open!: () => void;
    gates.set('first', new Promise<void>((r) => (open = r)));
    const call = async (tag: string) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`http://gateway/tagged/${tag}`, { headers: { 'x-request-id': id } }), { ...baseEnv, ...vars }, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const before = telemetrySnapshot(isolateOf(vars).services.telemetry).accepted;
    const first = call('first');
    await new Promise((r) => setTimeout(r, 20)); // the first request's batch is open and waiting
    expect((await call('second')).status).toBe(200);
    const rows = (sql_: string) => sql<{ client_name: string; reason: string }>(sql_, [id]);
    const attempts = 'SELECT client_name, reason FROM auth_attempt_log WHERE request_id = $1 ORDER BY id';
    // The second's events went out with its own request-log row, none of them into the first's batch.
    expect(await rows(attempts)).toEqual([
      { client_name: 'second', reason: 'unknown_key' },
      { client_name: 'second', reason: 'revoked_key' },
    ]);
    expect(telemetrySnapshot(isolateOf(vars).services.telemetry).accepted - before).toBe(1);
    open();
    expect((await first).status).toBe(200);
    expect((await rows(attempts)).filter((r) => r.client_name === 'first')).toEqual([
      { client_name: 'first', reason: 'unknown_key' },
      { client_name: 'first', reason: 'revoked_key' },
    ]);
    expect(await sql('SELECT path FROM gateway_request_log WHERE request_id = $1 ORDER BY id', [id])).toEqual([
      { path: '/tagged/second' },
      { path: '/tagged/first' },
    ]);
    expect(telemetrySnapshot(isolateOf(vars).services.telemetry).accepted - before).toBe(2);
  });
});

describe('structured log lines', () => {
  it('are one JSON object with ts, level, event and fields, scrubbed of keys, hashes and URL credentials', async () => {
    const { formatLogLine } = await import('../../worker/log.js');
    const key = 'ath_abcdefghij_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn';
    const hash = 'a'.repeat(64);
    const line = formatLogLine(
      'warn',
      'probe',
      {
        requestId: 'r-1',
        message: `failed for ${key} at postgres://user:hunter2@db.example.com:5432/app, hash ${hash}`,
        event: 'overridden?',
        n: 3,
      },
      new Date(0),
    );
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      ts: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      event: 'probe',
      requestId: 'r-1',
      message: 'failed for ath_abcdefghij_[redacted] at postgres://[redacted]@db.example.com:5432/app, hash [redacted-hash]',
      n: 3,
    });
  });
});
