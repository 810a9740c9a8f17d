/**
 * The flusher's batch-signature check: the rules of drizzle/signing.ts (headers, skew window,
 * HMAC-SHA256 over `<timestamp>.<body>`, any listed secret during a rotation) computed with
 * node:crypto. Web Crypto's verify copies the body behind the timestamp and hops through a promise
 * per secret; here the HMAC streams both parts, synchronously, and `timingSafeEqual` keeps the
 * comparison constant-time. test/unit/flusher-verify.test.ts holds both implementations to one verdict.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkSignatureHeaders, type SignatureHeaders, type VerifyResult } from '../drizzle/signing.js';

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
