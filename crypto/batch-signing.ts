/**
 * Batch signatures, the one implementation both the worker (signs) and the flusher (verifies) use.
 * HMAC-SHA256 over `<timestamp ms>.<body bytes>` with FLUSH_SIGNING_SECRET, via Web Crypto (global
 * in workerd and Node 22). The timestamp is signed too, so a captured request cannot be replayed
 * past the skew window; within it, the batch-id ledger makes a replay a harmless duplicate.
 */
import { fromHex, toHex } from './hex.js';

export const TIMESTAMP_HEADER = 'x-flush-timestamp';
export const SIGNATURE_HEADER = 'x-flush-signature';
/** Requests whose timestamp is further than this from the verifier's clock are refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    // One secret per process in practice; the bound only guards against misuse.
    if (keys.size >= 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function signedBytes(timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(`${timestamp}.`);
  const tail = typeof body === 'string' ? encoder.encode(body) : body;
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** The two headers to send with `body`: `x-flush-timestamp` and `x-flush-signature: v1=<hex>`. */
export async function signBatch(secret: string, body: string | Uint8Array, nowMs: number): Promise<Record<string, string>> {
  const timestamp = String(Math.trunc(nowMs));
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), signedBytes(timestamp, body));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `v1=${toHex(new Uint8Array(mac))}` };
}

export type VerifyFailure = 'missing_signature' | 'malformed_signature' | 'clock_skew' | 'bad_signature';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export type SignatureHeaders = { timestamp: string | undefined; signature: string | undefined };

/**
 * What can be judged without the secret: both headers present and well formed, the timestamp
 * within the skew window. On success, the timestamp text (signed as is) and the MAC's bytes.
 */
export function checkSignatureHeaders(
  headers: SignatureHeaders,
  nowMs: number,
): { ok: false; reason: VerifyFailure } | { ok: true; timestamp: string; mac: Uint8Array<ArrayBuffer> } {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: 'missing_signature' };
  const hex = /^v1=([0-9a-f]{64})$/i.exec(signature.trim())?.[1];
  if (!/^\d{1,16}$/.test(timestamp) || !hex) return { ok: false, reason: 'malformed_signature' };
  if (Math.abs(nowMs - Number(timestamp)) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'clock_skew' };
  const mac = fromHex(hex);
  if (!mac) return { ok: false, reason: 'malformed_signature' };
  return { ok: true, timestamp, mac };
}
