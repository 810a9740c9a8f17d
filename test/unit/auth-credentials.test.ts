/** Which key a request presents (docs/protocol.md "Headers"); the key format stays what the CLI creates. */
import { describe, expect, it } from 'vitest';
import { loggableClientName, readApiKey } from '../../worker/auth/credentials.js';
import { generateApiKey, hashApiKey, parseApiKey } from '../../crypto/key-format.js';

const KEY = 'ath_abcdefghij_ABCDEFGHIJabcdefghij0123456789ABCDEFGHIJ';
const OTHER = 'ath_zzzzzzzzzz_ABCDEFGHIJabcdefghij0123456789ABCDEFGHIJ';

describe('readApiKey', () => {
  it.each([
    ['x-athena-key', KEY],
    ['apikey', KEY],
    ['x-api-key', KEY],
    ['X-API-Key', KEY],
    ['authorization', `Bearer ${KEY}`],
    ['Authorization', `bearer   ${KEY}  `],
  ])('reads %s', (name, value) => {
    expect(readApiKey(new Headers({ [name]: value }))).toEqual({ kind: 'key', key: KEY });
  });

  it('accepts several headers carrying the same key', () => {
    const h = new Headers({ 'x-athena-key': KEY, apikey: KEY, authorization: `Bearer ${KEY}` });
    expect(readApiKey(h)).toEqual({ kind: 'key', key: KEY });
  });

  it('reports conflicting values, across headers or repeated lines', () => {
    expect(readApiKey(new Headers({ 'x-athena-key': KEY, 'x-api-key': OTHER }))).toEqual({ kind: 'conflict' });
    expect(readApiKey(new Headers({ apikey: KEY, authorization: `Bearer ${OTHER}` }))).toEqual({ kind: 'conflict' });
    const repeated = new Headers();
    repeated.append('x-athena-key', KEY);
    repeated.append('x-athena-key', OTHER);
    expect(readApiKey(repeated)).toEqual({ kind: 'conflict' });
  });

  it('reads repeated lines of one key as that key, and skips empty parts of a joined value', () => {
    expect(readApiKey(new Headers({ 'x-athena-key': `${KEY}, ${KEY}` }))).toEqual({ kind: 'key', key: KEY });
    expect(readApiKey(new Headers({ apikey: ` , ${KEY},`, 'x-api-key': ', ,' }))).toEqual({ kind: 'key', key: KEY });
    expect(readApiKey(new Headers({ apikey: ', ,' }))).toEqual({ kind: 'none' });
    expect(readApiKey(new Headers({ apikey: `${KEY},${OTHER}`, 'x-api-key': KEY }))).toEqual({ kind: 'conflict' });
  });

  it('ignores empty values and non-Bearer authorization', () => {
    expect(readApiKey(new Headers())).toEqual({ kind: 'none' });
    expect(readApiKey(new Headers({ 'x-athena-key': '  ', authorization: 'Basic dXNlcjpwdw==' }))).toEqual({ kind: 'none' });
    expect(readApiKey(new Headers({ authorization: 'Bearer ' }))).toEqual({ kind: 'none' });
  });

  it('returns what was sent, even when malformed (the middleware rejects it)', () => {
    expect(readApiKey(new Headers({ apikey: 'not-a-key' }))).toEqual({ kind: 'key', key: 'not-a-key' });
  });
});

describe('key format (shared with the CLI)', () => {
  it('parses generated keys and rejects near misses', async () => {
    const { key, prefix } = generateApiKey();
    expect(parseApiKey(key)).toEqual({ key, prefix, body: key, tag: null });
    expect(prefix).toMatch(/^ath_[a-z0-9]{10}$/);
    expect(await hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    for (const bad of ['', KEY.slice(0, -1), `${KEY}x`, KEY.replace('ath_', 'atx_'), KEY.replace('abcdefghij', 'ABCDEFGHIJ'), `${KEY} `]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('carries at least 160 bits of secret', () => {
    // 40 characters of base62: log2(62) * 40 ≈ 238 bits.
    expect(Math.log2(62) * 40).toBeGreaterThanOrEqual(160);
    expect(/_([A-Za-z0-9]+)$/.exec(generateApiKey().key)?.[1]).toHaveLength(40);
  });
});

describe('loggableClientName', () => {
  it('keeps a client name, trimmed and clipped, and withholds anything key-shaped', () => {
    const { key } = generateApiKey();
    expect(loggableClientName('  acme ')).toBe('acme');
    expect(loggableClientName('x'.repeat(100))).toBe('x'.repeat(64));
    expect(loggableClientName(undefined)).toBeNull();
    expect(loggableClientName('   ')).toBeNull();
    expect(loggableClientName(key)).toBeNull();
    expect(loggableClientName(`Bearer ${key}`)).toBeNull();
  });
});
