/**
 * Key tags: HMAC-SHA256(secret, `ath_<prefix>_<secret>`), truncated to 96 bits, as lower-case hex.
 * The first of KEY_SIGNING_SECRETS signs (CLI), every one verifies (worker), so a secret can be
 * rotated: add the new one first, keep the old one until no key it signed is in use.
 * Web Crypto only: the CLI (Node) and the worker share it.
 */
import { toHex } from './hex.js';
import { TAG_BYTES } from './key-format.js';

const ENCODER = new TextEncoder();

/** KEY_SIGNING_SECRETS as a list: comma separated, blanks dropped. */
export function signingSecretsOf(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Imports one secret as an HMAC key (sign and verify). */
export function importSigningKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', ENCODER.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** The tag of `body` under `key`. */
async function keyTag(key: CryptoKey, body: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, ENCODER.encode(body)));
  return toHex(mac.subarray(0, TAG_BYTES));
}

/** True when `tag` is the tag of `body` under any of `keys` (compared without early exit). */
export async function tagMatches(keys: readonly CryptoKey[], body: string, tag: string): Promise<boolean> {
  let matched = false;
  for (const key of keys) {
    const expected = await keyTag(key, body);
    let diff = expected.length ^ tag.length;
    for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ tag.charCodeAt(i);
    matched ||= diff === 0;
  }
  return matched;
}

/** A signer for the CLI: tags with the first secret. */
export async function signerFor(secrets: readonly string[]): Promise<(body: string) => Promise<string>> {
  const first = secrets[0];
  if (first === undefined) throw new Error('no key-signing secret');
  const key = await importSigningKey(first);
  return (body) => keyTag(key, body);
}
