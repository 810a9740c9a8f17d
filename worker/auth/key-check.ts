/**
 * The offline half of key validation: is this a key the gateway minted? A tagged key is checked
 * against KEY_SIGNING_SECRETS (no I/O); an untagged (legacy) key, or any key when no secret is
 * configured, can only be judged by the directory's live prefixes and then a lookup.
 */
import type { Isolate } from '../isolate.js';
import type { ParsedKey } from '../../drizzle/key-format.js';
import { importSigningKey, tagMatches } from '../../drizzle/key-signing.js';

/** Imported HMAC keys as plain objects, filled by the first request that needs them (never a shared promise). */
export type SigningKeys = { keys: CryptoKey[] | undefined };

type OfflineVerdict = 'signed' | 'forged' | 'legacy';

export async function offlineKeyCheck(isolate: Isolate, key: ParsedKey): Promise<OfflineVerdict> {
  const secrets = isolate.settings.KEY_SIGNING_SECRETS;
  if (key.tag === null || secrets.length === 0) return 'legacy';
  const slot = isolate.services.signingKeys;
  slot.keys ??= await Promise.all(secrets.map(importSigningKey));
  return (await tagMatches(slot.keys, key.body, key.tag)) ? 'signed' : 'forged';
}
