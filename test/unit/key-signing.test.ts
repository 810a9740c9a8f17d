/**
 * Key tags: minted keys carry the truncated HMAC of their body under the first signing secret;
 * any secret of the list verifies (rotation); a changed character, another secret or a legacy key
 * never verifies; the format parses both generations and nothing else.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, KEY_LENGTH, LEGACY_KEY_LENGTH, mintApiKey, parseApiKey, partsOfKnownKey } from '../../crypto/key-format.js';
import { importSigningKey, signerFor, signingSecretsOf, tagMatches } from '../../crypto/key-signing.js';

const OLD = 'old-signing-secret-0123456789abcdefghij';
const NEW = 'new-signing-secret-0123456789abcdefghij';

describe('key tags', () => {
  it('a minted key is body + the first 96 bits of HMAC-SHA256(secret, body) in hex', async () => {
    const k = await mintApiKey(await signerFor([NEW, OLD]));
    expect(k.key).toMatch(/^ath_[a-z0-9]{10}_[A-Za-z0-9]{40}_[0-9a-f]{24}$/);
    expect(k.tag).toBe(createHmac('sha256', NEW).update(k.body).digest('hex').slice(0, 24));
    expect(parseApiKey(k.key)).toEqual(k);
  });

  it('verifies under any secret of the list, and under no other', async () => {
    const byOld = await mintApiKey(await signerFor([OLD]));
    const both = await Promise.all([NEW, OLD].map(importSigningKey));
    const onlyNew = [await importSigningKey(NEW)];
    expect(await tagMatches(both, byOld.body, byOld.tag ?? '')).toBe(true);
    expect(await tagMatches(onlyNew, byOld.body, byOld.tag ?? '')).toBe(false);
  });

  it('a changed body or tag character never verifies', async () => {
    const k = await mintApiKey(await signerFor([NEW]));
    const keys = [await importSigningKey(NEW)];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
    expect(await tagMatches(keys, flip(k.body, 20), k.tag ?? '')).toBe(false);
    expect(await tagMatches(keys, k.body, flip(k.tag ?? '', 23))).toBe(false);
    expect(await tagMatches(keys, k.body, (k.tag ?? '').slice(0, 23))).toBe(false);
  });

  it('parses legacy keys as untagged and refuses anything else', () => {
    const legacy = generateApiKey();
    expect(parseApiKey(legacy.key)).toEqual({ ...legacy, tag: null });
    for (const bad of [
      `${legacy.key}_`,
      `${legacy.key}_${'A'.repeat(24)}`,
      `${legacy.key}_${'0'.repeat(23)}`,
      `${legacy.key}_${'0'.repeat(25)}`,
      legacy.key.slice(1),
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('a known key split without the pattern has the parts parseApiKey gives, tagged or legacy', async () => {
    const tagged = await mintApiKey(await signerFor([NEW]));
    const legacy = generateApiKey();
    expect(tagged.key).toHaveLength(KEY_LENGTH);
    expect(legacy.key).toHaveLength(LEGACY_KEY_LENGTH);
    for (const k of [tagged, legacy]) expect(partsOfKnownKey(k.key)).toEqual(parseApiKey(k.key));
  });

  it('KEY_SIGNING_SECRETS is a comma list; blanks are dropped', () => {
    expect(signingSecretsOf(` ${NEW} , ,${OLD}`)).toEqual([NEW, OLD]);
    expect(signingSecretsOf(undefined)).toEqual([]);
  });
});
