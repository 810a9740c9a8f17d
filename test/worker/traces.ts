/**
 * Where a hostile-corpus test looks for a secret besides the answer: the worker's log (every
 * console line written while the request runs) and the catalog's log tables (the request's rows).
 * One copy for every hostile file, so each surface is checked in the same four places.
 */
import { expect, vi } from 'vitest';
import { sql } from './seed.js';

const LOG_TABLES = ['gateway_request_log', 'auth_attempt_log', 'admission_events'] as const;

/** Every console line the worker writes while `fn` runs. */
export async function withWorkerLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  }
  try {
    return { result: await fn(), lines };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The request's rows in the catalog's log tables, one array per table, in `LOG_TABLES` order. */
export async function catalogLogRows(requestId: string): Promise<Record<string, unknown>[][]> {
  return Promise.all(LOG_TABLES.map((t) => sql(`SELECT * FROM ${t} WHERE request_id = $1`, [requestId])));
}

/**
 * Runs `call` (one request), then asserts that none of `secrets` is in its body, its headers, the
 * worker's log or the catalog's log rows of its request id. The rows must include the request
 * log's (run it under REQUEST_LOG=all), so an empty table cannot pass for a clean one.
 */
export async function expectNoTrace<R extends { text: string; headers: Headers }>(call: () => Promise<R>, secrets: readonly string[]): Promise<R> {
  const { result, lines } = await withWorkerLog(call);
  const requestId = result.headers.get('x-request-id') ?? '';
  expect(requestId, 'the answer names its request id').not.toBe('');
  const rows = await catalogLogRows(requestId);
  expect(rows[0], `one request-log row for ${requestId}`).toHaveLength(1);
  const places = {
    body: result.text,
    headers: JSON.stringify([...result.headers.entries()]),
    'worker log': lines.join('\n'),
    'log tables': JSON.stringify(rows),
  };
  for (const secret of secrets) {
    for (const [place, text] of Object.entries(places)) expect(text, `${place} holds ${secret}`).not.toContain(secret);
  }
  return result;
}
