import { describe, expect, it } from 'vitest';
import { readJsonObject } from '../../worker/gateway/body.js';
import { GatewayError } from '../../worker/errors.js';

const MAX = 64;

/** A POST whose body arrives with its length declared, or as a stream of `chunks` without one. */
function declared(body: Uint8Array | string, contentLength?: string): Request {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return new Request('http://gateway/gateway/fetch', {
    method: 'POST',
    body: bytes.slice().buffer as ArrayBuffer,
    headers: { 'content-length': contentLength ?? String(bytes.byteLength) },
  });
}
function streamed(...chunks: (Uint8Array | string)[]): Request {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? new TextEncoder().encode(c) : c);
      controller.close();
    },
  });
  return new Request('http://gateway/gateway/fetch', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
}
async function failure(req: Request): Promise<{ status: number; code: string; message: string }> {
  const err = await readJsonObject(req, MAX).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(err)}`);
  return { status: err.status, code: err.code, message: err.message };
}

const INVALID_UTF8 = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}

describe('readJsonObject', () => {
  it('parses an object whether its length is declared or it streams in chunks (split inside a UTF-8 character)', async () => {
    expect(await readJsonObject(declared('{"table_name":"t","n":1}'), MAX)).toEqual({ table_name: 't', n: 1 });
    const text = new TextEncoder().encode('{"name":"é€😀"}');
    expect(await readJsonObject(streamed(text.slice(0, 10), text.slice(10)), MAX)).toEqual({ name: 'é€😀' });
    // A leading byte-order mark is dropped, as before.
    expect(await readJsonObject(declared('\uFEFF{"a":1}'), MAX)).toEqual({ a: 1 });
  });

  it('a body of exactly the limit passes; one byte more is 413, declared or streamed', async () => {
    const exact = `{"a":"${'x'.repeat(MAX - 8)}"}`;
    expect(new TextEncoder().encode(exact).byteLength).toBe(MAX);
    expect(await readJsonObject(declared(exact), MAX)).toEqual({ a: 'x'.repeat(MAX - 8) });
    expect(await readJsonObject(streamed(exact.slice(0, 20), exact.slice(20)), MAX)).toEqual({ a: 'x'.repeat(MAX - 8) });
    const over = `{"a":"${'x'.repeat(MAX - 7)}"}`;
    expect(await failure(declared(over))).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(await failure(streamed(over.slice(0, 30), over.slice(30)))).toMatchObject({ status: 413, code: 'payload_too_large' });
    // A declared length that understates the body does not let the body past the limit.
    expect(await failure(declared(over, '10'))).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('invalid UTF-8 is 400 invalid_json, declared or streamed; a later valid body decodes cleanly', async () => {
    for (const req of [declared(INVALID_UTF8), streamed(INVALID_UTF8.slice(0, 7), INVALID_UTF8.slice(7))]) {
      expect(await failure(req)).toEqual({ status: 400, code: 'invalid_json', message: 'Request body is not valid UTF-8' });
    }
    // The decoder is shared: a truncated character must not leak into the next body.
    expect(await failure(declared(new Uint8Array([0x7b, 0x7d, 0xe2, 0x82])))).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(await readJsonObject(declared('{"b":2}'), MAX)).toEqual({ b: 2 });
  });

  it('empty, unparsable and non-object bodies are 400 with their own codes', async () => {
    expect(await failure(declared(''))).toMatchObject({ status: 400, code: 'invalid_json', message: 'Request body is empty' });
    expect(await failure(declared('  \n'))).toMatchObject({ status: 400, code: 'invalid_json', message: 'Request body is empty' });
    expect(await failure(declared('{"a":'))).toMatchObject({ status: 400, code: 'invalid_json', message: 'Request body is not valid JSON' });
    expect(await failure(declared('[1,2]'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await failure(streamed('null'))).toMatchObject({ status: 400, code: 'invalid_request' });
  });
});
