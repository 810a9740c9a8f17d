import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBatch, type SignatureHeaders } from '../../crypto/batch-signing.js';
import { verifyBatchSync } from '../../flusher/verify.js';

const SECRET = 'unit-test-signing-secret';
const NEXT = 'unit-test-signing-secret-next';
const now = 1_800_000_000_000;
const bytes = (s: string) => new TextEncoder().encode(s);
const body = bytes(JSON.stringify({ hello: 'wörld', n: [1, 2, 3] }));

async function headersFor(b: Uint8Array, t = now, secret = SECRET): Promise<SignatureHeaders> {
  const h = await signBatch(secret, b, t);
  return { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER] };
}

type Case = [string, readonly string[], SignatureHeaders, Uint8Array, number, string];

async function cases(): Promise<Case[]> {
  const h = await headersFor(body);
  return [
    ['valid', [SECRET], h, body, now, 'ok'],
    ['valid at the skew edge', [SECRET], h, body, now + MAX_CLOCK_SKEW_MS, 'ok'],
    ['upper-case hex, padded header', [SECRET], { ...h, signature: ` ${h.signature?.toUpperCase().replace('V1=', 'v1=')} ` }, body, now, 'ok'],
    ['rotation: new secret first', [NEXT, SECRET], h, body, now, 'ok'],
    ['rotation: signed with the new one', [SECRET, NEXT], await headersFor(body, now, NEXT), body, now, 'ok'],
    ['changed body', [SECRET], h, bytes('{"hello":"world"}'), now, 'bad_signature'],
    ['changed timestamp', [SECRET], { ...h, timestamp: String(now + 1) }, body, now, 'bad_signature'],
    ['other secret', ['another-secret-value'], h, body, now, 'bad_signature'],
    ['no secret configured', [], h, body, now, 'bad_signature'],
    ['missing timestamp', [SECRET], { ...h, timestamp: undefined }, body, now, 'missing_signature'],
    ['missing signature', [SECRET], { ...h, signature: undefined }, body, now, 'missing_signature'],
    ['wrong scheme', [SECRET], { ...h, signature: 'sha256=abc' }, body, now, 'malformed_signature'],
    ['short mac', [SECRET], { ...h, signature: 'v1=abcd' }, body, now, 'malformed_signature'],
    ['timestamp not a number', [SECRET], { ...h, timestamp: 'soon' }, body, now, 'malformed_signature'],
    ['too late', [SECRET, NEXT], h, body, now + MAX_CLOCK_SKEW_MS + 1, 'clock_skew'],
    ['too early', [SECRET], h, body, now - MAX_CLOCK_SKEW_MS - 1, 'clock_skew'],
  ];
}

describe("verifyBatchSync (node:crypto) against batches signed by the worker's signBatch (Web Crypto)", () => {
  it('on valid, tampered, rotated, malformed and skewed batches', async () => {
    for (const [name, secrets, headers, b, at, want] of await cases()) {
      const verdict = verifyBatchSync(secrets, headers, b, at);
      expect(verdict.ok ? 'ok' : verdict.reason, name).toBe(want);
    }
  });
});
