/**
 * The batch-signature check (only the flusher verifies; the worker signs with crypto/batch-signing.ts):
 * the header and skew rules of crypto/batch-signing.ts, then HMAC-SHA256 over `<timestamp>.<body>` with
 * each listed secret (a rotation accepts any). node:crypto rather than Web Crypto: the HMAC
 * streams both parts synchronously, where Web Crypto copies the body behind the timestamp and
 * hops through a promise per secret; `timingSafeEqual` keeps the comparison constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkSignatureHeaders, type SignatureHeaders, type VerifyResult } from '../crypto/batch-signing.js';

export function verifyBatchSync(secrets: readonly string[], headers: SignatureHeaders, body: Uint8Array, nowMs: number): VerifyResult {
  if (secrets.length === 0) return { ok: false, reason: 'bad_signature' };
  const head = checkSignatureHeaders(headers, nowMs);
  if (!head.ok) return head;
  for (const secret of secrets) {
    const mac = createHmac('sha256', secret).update(`${head.timestamp}.`).update(body).digest();
    if (timingSafeEqual(mac, head.mac)) return { ok: true };
  }
  return { ok: false, reason: 'bad_signature' };
}
