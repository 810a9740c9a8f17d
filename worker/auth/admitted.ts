/**
 * The auth context an admission carries: built from the key record and the client's policy that
 * auth already read, with the rate limit that applies.
 */
import type { AuthContext } from './context.js';
import type { ClientPolicy, KeyRecord } from './records.js';
import { applicableLimit } from '../ratelimit/limit.js';

/**
 * The admitted verdict of each cached key record, built once and reused while its policy is the
 * same object: records and policies are replaced on reload, never changed, so neither is this.
 */
const admittedVerdicts = new WeakMap<KeyRecord, { policy: ClientPolicy; verdict: { admitted: AuthContext } }>();

export function authenticated(key: KeyRecord, policy: ClientPolicy): { admitted: AuthContext } {
  const memo = admittedVerdicts.get(key);
  if (memo?.policy === policy) return memo.verdict;
  const keyContext = Object.freeze({
    id: key.id,
    prefix: key.prefix,
    scopes: key.scopes,
    expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
  });
  const verdict = Object.freeze({
    admitted: Object.freeze(withLimit({ clientName: key.clientName, authenticated: true, policy, key: keyContext }, key, policy)),
  });
  admittedVerdicts.set(key, { policy, verdict });
  return verdict;
}

/** Carries the rate limit that applies (key's own, else the client's) from the records auth already read. */
export function withLimit(auth: AuthContext, key: KeyRecord | undefined, policy: ClientPolicy): AuthContext {
  const rateLimit = applicableLimit(key, policy);
  return rateLimit ? { ...auth, rateLimit } : auth;
}
