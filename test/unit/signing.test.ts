import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_MS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signBatch, type SignatureHeaders } from '../../crypto/batch-signing.js';
import { verifyBatchSync } from '../../flusher/verify.js';

const SECRET = 'unit-test-signing-secret';
const body = JSON.stringify({ hello: 'wörld' });
const now = 1_800_000_000_000;

/** The flusher's verifier, over a string or bytes. */
const verify = (secrets: readonly string[], h: SignatureHeaders, b: string | Uint8Array, at: number) =>
  verifyBatchSync(secrets, h, typeof b === 'string' ? new TextEncoder().encode(b) : b, at);

async function headersFor(b: string | Uint8Array, t = now, secret = SECRET) {
  const h = await signBatch(secret, b, t);
  return { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER] };
}

describe('batch signing (shared by worker and flusher)', () => {
  it('verifies what it signed, over a string or the same bytes', async () => {
    const h = await headersFor(body);
    expect(h.signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verify([SECRET], h, body, now)).toEqual({ ok: true });
    expect(verify([SECRET], h, new TextEncoder().encode(body), now + 1000)).toEqual({ ok: true });
  });

  it('refuses a changed body, a changed timestamp, or another secret', async () => {
    const h = await headersFor(body);
    expect(verify([SECRET], h, body.replace('w', 'W'), now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify([SECRET], { ...h, timestamp: String(now + 1) }, body, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(['another-secret-value'], h, body, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses missing and malformed headers, and a timestamp beyond the skew window either way', async () => {
    const h = await headersFor(body);
    expect(verify([SECRET], { timestamp: undefined, signature: h.signature }, body, now)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify([SECRET], { ...h, signature: 'sha256=abc' }, body, now)).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verify([SECRET], { ...h, timestamp: 'soon' }, body, now)).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verify([SECRET], h, body, now + MAX_CLOCK_SKEW_MS)).toEqual({ ok: true });
    expect(verify([SECRET], h, body, now + MAX_CLOCK_SKEW_MS + 1)).toEqual({ ok: false, reason: 'clock_skew' });
    expect(verify([SECRET], h, body, now - MAX_CLOCK_SKEW_MS - 1)).toEqual({ ok: false, reason: 'clock_skew' });
  });

  it('during a rotation accepts a batch signed with any listed secret, and still refuses others', async () => {
    const next = 'unit-test-signing-secret-next';
    const both = [next, SECRET];
    expect(verify(both, await headersFor(body, now, SECRET), body, now)).toEqual({ ok: true });
    expect(verify(both, await headersFor(body, now, next), body, now)).toEqual({ ok: true });
    expect(verify(both, await headersFor(body, now, 'some-other-secret-entirely'), body, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(both, await headersFor(body, now - MAX_CLOCK_SKEW_MS - 1, SECRET), body, now)).toEqual({ ok: false, reason: 'clock_skew' });
    expect(verify([], await headersFor(body), body, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
