import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../crypto/sha256.js';
import { generateApiKey, hashApiKey, mintApiKey } from '../../crypto/key-format.js';

const reference = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('sha256Hex', () => {
  it('matches the published test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('equals node:crypto for every length across the block and padding boundaries', () => {
    for (let n = 0; n <= 300; n++) {
      const text = Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 7 + n) % 95))).join('');
      expect(sha256Hex(text), `length ${n}`).toBe(reference(text));
    }
  });

  it('hashes UTF-8 and long input like node:crypto (the encoded path, and input of many blocks)', () => {
    for (const text of ['é', 'ключ', '🔑'.repeat(40), 'x'.repeat(1024), 'x'.repeat(1025), 'y'.repeat(5000), `${'a'.repeat(1023)}é`]) {
      expect(sha256Hex(text)).toBe(reference(text));
    }
  });

  it('gives the same hash again after other input (no state leaks between calls)', () => {
    const { key } = generateApiKey();
    const first = sha256Hex(key);
    sha256Hex('z'.repeat(700));
    sha256Hex('ключ');
    expect(sha256Hex(key)).toBe(first);
  });
});

describe('hashApiKey', () => {
  it('is the SHA-256 that api_keys.key_hash stores, for legacy and tagged keys alike', async () => {
    const legacy = generateApiKey().key;
    const tagged = (await mintApiKey(async () => '0123456789abcdef01234567')).key;
    expect(hashApiKey(legacy)).toBe(reference(legacy));
    expect(hashApiKey(tagged)).toBe(reference(tagged));
    const webCrypto = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tagged))).toString('hex');
    expect(hashApiKey(tagged)).toBe(webCrypto);
  });
});
