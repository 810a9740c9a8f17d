/**
 * API key format: `ath_<prefix>_<secret>` — a visible 10-char lower-case prefix (stored, shown in
 * listings and logs) and a 40-char base62 secret (≈238 bits). Only the SHA-256 of the whole key
 * is stored. Shared by the CLI (creation) and the worker (parsing); Web Crypto only.
 */
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ENCODER = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const KEY_PATTERN = /^ath_([a-z0-9]{10})_([A-Za-z0-9]{40})$/;

export type ParsedKey = { key: string; prefix: string };

/** The key's visible prefix, or undefined when it is not a well-formed gateway key. */
export function parseApiKey(raw: string): ParsedKey | undefined {
  const m = KEY_PATTERN.exec(raw);
  return m ? { key: raw, prefix: `ath_${m[1]}` } : undefined;
}

/** Lower-case hex SHA-256 of the key: what `api_keys.key_hash` stores. */
export async function hashApiKey(key: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', ENCODER.encode(key)));
  // This runs on every authenticated request: a table lookup per byte, no per-byte closures.
  let hex = '';
  for (const b of bytes) hex += HEX[b];
  return hex;
}

/** A new random key and its prefix. Uniform characters via rejection sampling. */
export function generateApiKey(): ParsedKey {
  const prefix = `ath_${randomString(PREFIX_ALPHABET, 10)}`;
  return { key: `${prefix}_${randomString(SECRET_ALPHABET, 40)}`, prefix };
}

function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}
