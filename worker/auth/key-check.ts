/**
 * The offline half of key validation: is this a key the gateway minted? A tagged key is checked
 * against KEY_SIGNING_SECRETS (no I/O); an untagged (legacy) key, or any key when no secret is
 * configured, can only be judged by the directory's live prefixes and then a lookup.
 */
import type { Settings } from '../config.js';
import type { ParsedKey } from '../../crypto/key-format.js';
import { importSigningKey, tagMatches } from '../../crypto/key-signing.js';

/** Imported HMAC keys as plain objects, filled by the first request that needs them (never a shared promise). */
export type SigningKeys = { keys: CryptoKey[] | undefined };

type OfflineVerdict = 'signed' | 'forged' | 'legacy';

/** What the check reads of the isolate: the secrets and the slot their imported keys are kept in. */
type Signing = { readonly settings: Pick<Settings, 'KEY_SIGNING_SECRETS'>; readonly services: { readonly signingKeys: SigningKeys } };

export async function offlineKeyCheck(isolate: Signing, key: ParsedKey): Promise<OfflineVerdict> {
  const secrets = isolate.settings.KEY_SIGNING_SECRETS;
  if (key.tag === null || secrets.length === 0) return 'legacy';
  const slot = isolate.services.signingKeys;
  slot.keys ??= await Promise.all(secrets.map(importSigningKey));
  return (await tagMatches(slot.keys, key.body, key.tag)) ? 'signed' : 'forged';
}
