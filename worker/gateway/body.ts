/**
 * Reading a request body as JSON under `GATEWAY_MAX_BODY_BYTES`: the declared Content-Length and
 * the bytes actually read are both checked (413), unparsable text is 400 `invalid_json`.
 */
import { GatewayError } from '../errors.js';

export function payloadTooLarge(maxBytes: number): GatewayError {
  return new GatewayError('payload_too_large', `Request body larger than ${maxBytes} bytes`, { hint: 'Split the request (e.g. insert fewer rows per call).' });
}

/** The declared length is over the limit (a cheap check before any other work). */
export function declaresTooLarge(contentLength: string | undefined, maxBytes: number): boolean {
  if (!contentLength) return false;
  const n = Number(contentLength);
  return Number.isFinite(n) && n > maxBytes;
}

/** Reads at most `maxBytes` and parses JSON; the result must be an object. */
export async function readJsonObject(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = req.headers.get('content-length') ?? undefined;
  if (declaresTooLarge(declared, maxBytes)) throw payloadTooLarge(maxBytes);
  const text = decodeUtf8(await readCapped(req, maxBytes, declared !== undefined && /^\d+$/.test(declared)));
  if (text.trim() === '') throw new GatewayError('invalid_json', 'Request body is empty', { hint: 'Send a JSON object.' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError('invalid_json', 'Request body is not valid JSON', { hint: 'Send a JSON object (Content-Type: application/json).' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

// One decoder for the isolate: a call without `stream` starts from a fresh state, so sharing it
// between requests carries nothing over (and a decoder per request was one allocation per body).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new GatewayError('invalid_json', 'Request body is not valid UTF-8');
  }
}

/**
 * The body's bytes, never more than `maxBytes` (413). A body whose declared length is within the
 * limit is read in one piece (one native read instead of a promise per chunk); its size is still
 * checked. Otherwise chunks are counted as they arrive and the read stops at the limit.
 */
async function readCapped(req: Request, maxBytes: number, lengthDeclared: boolean): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  if (lengthDeclared) {
    const all = new Uint8Array(await req.arrayBuffer());
    if (all.byteLength > maxBytes) throw payloadTooLarge(maxBytes);
    return all;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
