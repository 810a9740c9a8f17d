/**
 * The dev stack's secrets. They persist across restarts (in the dotenv file wrangler reads) so an
 * ADMIN_TOKEN a developer copied, or a key signed with KEY_SIGNING_SECRETS, keeps working.
 */
import { randomBytes } from 'node:crypto';
import { readDevVars } from '../dev-state/dev-vars.js';
import { ADMIN_TOKEN_MIN_LENGTH } from '../worker/config.js';

export type StackSecrets = { keySigningSecret: string; flushSigningSecret: string; adminToken: string };

/** The secrets kept in `devVarsFile`, a fresh random one for each missing or too short. */
export function stackSecrets(devVarsFile: string): StackSecrets {
  const previous = readDevVars(devVarsFile);
  // A kept value must still be valid: one typed in by hand may predate the 32-character minimum.
  const secret = (name: string) => ((previous[name]?.length ?? 0) >= ADMIN_TOKEN_MIN_LENGTH ? previous[name] : undefined) ?? randomBytes(24).toString('hex');
  return { keySigningSecret: secret('KEY_SIGNING_SECRETS'), flushSigningSecret: secret('FLUSH_SIGNING_SECRET'), adminToken: secret('ADMIN_TOKEN') };
}
