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
  if (declaresTooLarge(req.headers.get('content-length') ?? undefined, maxBytes)) throw payloadTooLarge(maxBytes);
  const text = await readCapped(req, maxBytes);
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

async function readCapped(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return '';
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
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new GatewayError('invalid_json', 'Request body is not valid UTF-8');
  }
}
