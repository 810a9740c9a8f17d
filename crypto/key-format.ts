/**
 * API key format: `ath_<prefix>_<secret>_<tag>` — a visible 10-char lower-case prefix (stored,
 * shown in listings and logs), a 40-char base62 secret (≈238 bits) and a 24-hex-char tag: the
 * truncated HMAC-SHA256 of `ath_<prefix>_<secret>` under the gateway's key-signing secret
 * (key-signing.ts). The tag lets the worker refuse a key it never minted before any lookup.
 * Legacy keys (`ath_<prefix>_<secret>`, no tag) parse too; the middleware decides whether they
 * are accepted. Only the SHA-256 of the whole key is stored. Shared by the CLI and the worker.
 */
import { sha256Hex } from './sha256.js';

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_PATTERN = /^(ath_([a-z0-9]{10})_[A-Za-z0-9]{40})(?:_([0-9a-f]{24}))?$/;
/**
 * Anything key-shaped, tagged or legacy, anywhere in a string (group 1: the visible prefix): what
 * logs and stored paths must never keep. One definition, so a new key form cannot slip past them.
 */
export const KEY_SHAPE = /(ath_[a-z0-9]{10})_[A-Za-z0-9]{40}(?:_[0-9a-f]{24})?/;
/** Tag length in bytes (24 hex characters, 96 bits). */
export const TAG_BYTES = 12;

export type ParsedKey = {
  key: string;
  prefix: string;
  /** `ath_<prefix>_<secret>`: what the tag signs. */
  body: string;
  /** The tag, or null for a legacy key. */
  tag: string | null;
};

/** The key's parts, or undefined when it is not a well-formed gateway key (either format). */
export function parseApiKey(raw: string): ParsedKey | undefined {
  const m = KEY_PATTERN.exec(raw);
  if (!m?.[1] || !m[2]) return undefined;
  return { key: raw, prefix: `ath_${m[2]}`, body: m[1], tag: m[3] ?? null };
}

/** Length of a tagged key and of a legacy key (`ath_<prefix>_<secret>`): no other string can be a key. */
export const KEY_LENGTH = 80;
export const LEGACY_KEY_LENGTH = 55;
/** `ath_` and the 10 visible characters. */
const PREFIX_LENGTH = 14;

/**
 * The parts of a string already known to be a well-formed key (its hash was found in the catalog),
 * without running the pattern: what parseApiKey would answer for it.
 */
export function partsOfKnownKey(key: string): ParsedKey {
  const legacy = key.length === LEGACY_KEY_LENGTH;
  return {
    key,
    prefix: key.slice(0, PREFIX_LENGTH),
    body: legacy ? key : key.slice(0, LEGACY_KEY_LENGTH),
    tag: legacy ? null : key.slice(LEGACY_KEY_LENGTH + 1),
  };
}

/**
 * Lower-case hex SHA-256 of the key: what `api_keys.key_hash` stores. Synchronous (the worker runs
 * it on every authenticated request; see sha256.ts); `await hashApiKey(k)` still reads the same.
 */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** A new random untagged key: the legacy format (kept for migration tests and old tooling). */
export function generateApiKey(): ParsedKey {
  const prefix = `ath_${randomString(PREFIX_ALPHABET, 10)}`;
  const body = `${prefix}_${randomString(SECRET_ALPHABET, 40)}`;
  return { key: body, prefix, body, tag: null };
}

/** A new random key tagged with `sign` (the first key-signing secret; see key-signing.ts). */
export async function mintApiKey(sign: (body: string) => Promise<string>): Promise<ParsedKey> {
  const legacy = generateApiKey();
  const tag = await sign(legacy.body);
  return { ...legacy, key: `${legacy.body}_${tag}`, tag };
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
