/**
 * The steps of the auth decision, in request order (docs/auth.md "The path, in order"): identity
 * from the headers, the offline key check, the client's policy, the key at `now`. Each step reads
 * memory first and returns a promise only when it must wait; it answers with a verdict (which ends
 * the decision) or nothing (the next step runs). None throws, logs telemetry or counts.
 */
import type { SessionContext } from '../db/with-session.js';
import { log } from '../log.js';
import { hashApiKey, KEY_LENGTH, LEGACY_KEY_LENGTH, parseApiKey, partsOfKnownKey, type ParsedKey } from '../../crypto/key-format.js';
import type { CacheOutcome } from './cache.js';
import { freshRecord } from './catalog-changes.js';
import { directoryFor, directoryInMemory } from './client-directory.js';
import { authenticated, withLimit } from './admitted.js';
import type { AuthContext } from './context.js';
import { readApiKey } from './credentials.js';
import { checkPrefix, type Directory } from './directory.js';
import { offlineKeyCheck } from './key-check.js';
import { keyState, lookupKey } from './keys.js';
import { CLIENT_NAME, loadClientPolicy, policyInMemory } from './policy.js';
import type { ClientPolicy, KeyRecord } from './records.js';

export type RefusalName =
  | 'missing_client_header'
  | 'conflicting_credentials'
  | 'missing_key'
  | 'invalid_key'
  | 'unknown_client'
  | 'client_inactive'
  | 'client_frozen'
  | 'client_mismatch';

/** A refusal: what the client is told (`name`), why (`reason`, telemetry only), and what it counts as. */
export type Refusal = { refused: RefusalName; reason: string; counts?: 'forged' | 'unknown_client'; client?: string | undefined };

/** A lookup that could not run: 503, or a read-only unverified admission under AUTH_FAIL_MODE=open. */
export type Unavailable = {
  unavailable: 'policy_unavailable' | 'validation_unavailable';
  outcome: CacheOutcome<unknown>;
  /** The client to admit as when failing open (none: it stays closed). */
  clientName: string | undefined;
  /** The client's policy when it was read before the key lookup failed: its rate limit still counts. */
  policy?: ClientPolicy;
};

export type Verdict = { admitted: AuthContext } | Refusal | Unavailable;

/** How an endpoint names its client: `header-or-key` lets the key name it when `X-Athena-Client` is absent (verify). */
export type DecisionRules = { clientFrom: 'header' | 'header-or-key'; requireKey: boolean };

/** What one run of the decision has learnt so far: owned by the driver, never seen by its caller. */
export type DecisionState = {
  readonly ctx: SessionContext;
  /** The request, for its headers and abort signal (a step that answers from memory never reads the signal). */
  readonly request: Request;
  readonly rules: DecisionRules;
  readonly now: () => number;
  headerClient: string | undefined;
  key: ParsedKey | undefined;
  hash: string;
  /** The key's record as the cache held it when read (re-read after a wait: a check may have dropped it). */
  cached: KeyRecord | undefined;
  keyPrefix: string | null;
  keyClient: string | undefined;
  policy: ClientPolicy | undefined;
  record: KeyRecord | undefined;
  /** Some step has waited: the key's cached record is read again before the policy and key steps. */
  waited: boolean;
};

/** A step's answer: a verdict ends the decision; undefined runs the next step. */
export type StepAnswer = Verdict | undefined;
export type Step = (s: DecisionState) => StepAnswer | Promise<StepAnswer>;

const refuse = (refused: RefusalName, reason: string = refused): Refusal => ({ refused, reason });
const forged = (reason: string, client: string | undefined): Refusal => ({ refused: 'invalid_key', reason, counts: 'forged', client });
const unknownClient: Refusal = { refused: 'unknown_client', reason: 'unknown_client', counts: 'unknown_client' };
const isValue = <T extends object>(v: T | Refusal | Unavailable): v is T => !('refused' in v) && !('unavailable' in v);

/** Who the headers say the caller is: the client name and the parsed key, hashed, with its cached record. */
function identify(s: DecisionState): StepAnswer {
  const { headers } = s.request;
  s.headerClient = headers.get('x-athena-client')?.trim() || undefined;
  if (!s.headerClient && s.rules.clientFrom !== 'header-or-key') return refuse('missing_client_header');
  const credentials = readApiKey(headers);
  if (credentials.kind === 'conflict') return refuse('conflicting_credentials');
  if (credentials.kind === 'none') return undefined;
  const raw = credentials.key;
  if (raw.length !== KEY_LENGTH && raw.length !== LEGACY_KEY_LENGTH) return forged('malformed_key', s.headerClient);
  // Hashed before parsing: a key cached as found was read from the catalog, so its form needs no pattern.
  s.hash = hashApiKey(raw);
  s.cached = s.ctx.isolate.services.keyCache.found(s.hash);
  s.key = s.cached ? partsOfKnownKey(raw) : parseApiKey(raw);
  if (!s.key) return forged('malformed_key', s.headerClient);
  s.keyPrefix = s.key.prefix;
  return undefined;
}

/**
 * The key's tag. A key whose hash is freshly cached as found was read from the catalog, so its tag
 * needs no re-check: the cache-hit path skips the HMAC. (A key signed under a secret since removed
 * from KEY_SIGNING_SECRETS is therefore refused once its entry expires: within AUTH_CACHE_TTL_MS.)
 */
function checkTag(s: DecisionState): StepAnswer | Promise<StepAnswer> {
  if (!s.key) return undefined;
  if (s.cached !== undefined) return tagVerdict(s, s.key.tag === null ? 'legacy' : 'signed');
  return offlineKeyCheck(s.ctx.isolate, s.key).then((verdict) => tagVerdict(s, verdict));
}

function tagVerdict(s: DecisionState, verdict: 'signed' | 'forged' | 'legacy'): StepAnswer {
  if (verdict === 'forged') return forged('forged_key', s.headerClient);
  if (verdict === 'legacy' && !s.ctx.isolate.settings.AUTH_ACCEPT_LEGACY_KEYS) return refuse('invalid_key', 'legacy_key');
  return undefined;
}

const checkClientName = (s: DecisionState): StepAnswer => (s.headerClient && !CLIENT_NAME.test(s.headerClient) ? unknownClient : undefined);

/**
 * Where a re-decision starts: after a wait, the key's record as the caches hold it now (a check
 * may have dropped it); the policy and record of an earlier pass are forgotten.
 */
function recall(s: DecisionState): StepAnswer {
  if (s.waited && s.key) s.cached = freshRecord(s.ctx.isolate.services.keyCache, s.hash);
  s.policy = undefined;
  s.record = undefined;
  return undefined;
}

/** Whether the client may use the gateway under `policy` (null: no such client). */
function admissible(policy: ClientPolicy | null): ClientPolicy | Refusal {
  if (policy === null) return unknownClient;
  if (!policy.isActive) return refuse('client_inactive');
  if (policy.isFrozen) return refuse('client_frozen');
  return policy;
}

/** The client's policy, kept in the state if the client may use the gateway. */
function checkPolicy(s: DecisionState, clientName: string): StepAnswer | Promise<StepAnswer> {
  const inMemory = policyInMemory(s.ctx, clientName);
  if (inMemory !== undefined) return keepPolicy(s, admissible(inMemory));
  return loadClientPolicy(s.ctx, clientName, s.request.signal).then((outcome): StepAnswer => {
    if (!outcome.ok) return { unavailable: 'policy_unavailable', outcome, clientName };
    noteStale(s, 'policy', outcome);
    return keepPolicy(s, admissible(outcome.value));
  });
}

function keepPolicy(s: DecisionState, policy: ClientPolicy | Refusal): StepAnswer {
  if (!isValue(policy)) return policy;
  s.policy = policy;
  return undefined;
}

/** With a client header, its policy comes before the key. */
const headerPolicy = (s: DecisionState): StepAnswer | Promise<StepAnswer> => (s.headerClient === undefined ? undefined : checkPolicy(s, s.headerClient));

/** No key: refused, or (client header, optional enforcement) admitted anonymously under the client's limit. */
function keyless(s: DecisionState): StepAnswer {
  if (s.key) return undefined;
  const { headerClient, policy } = s;
  if (headerClient === undefined || !policy || policy.enforcement === 'required' || s.rules.requireKey) return refuse('missing_key');
  return { admitted: withLimit({ clientName: headerClient, authenticated: false, policy }, undefined, policy) };
}

/** A legacy key (or any key while no signing secret is set) must be listed in the directory before a lookup. */
const needsListing = (s: DecisionState, key: ParsedKey): boolean => key.tag === null || s.ctx.isolate.settings.KEY_SIGNING_SECRETS.length === 0;

const listsPrefix = (d: Directory, s: DecisionState): boolean => checkPrefix(d, s.keyPrefix ?? '', s.headerClient) !== 'unlisted';

/**
 * The presented key's record if usable at `now`. A legacy key must carry the prefix of a live key
 * in the directory (of the header's client when given) before it may cost a lookup.
 */
function checkKey(s: DecisionState): StepAnswer | Promise<StepAnswer> {
  const key = s.key as ParsedKey; // keyless() refused or admitted every request without one
  if (!needsListing(s, key)) return s.cached ? keepRecord(s, usable(s.cached, s.now)) : lookup(s, s.headerClient);
  const inMemory = directoryInMemory(s.ctx, listsPrefix, s);
  if (inMemory) return listed(s, inMemory);
  return directoryFor(s.ctx, (d) => listsPrefix(d, s), s.request.signal).then((answer) =>
    answer.ok ? listed(s, answer.directory) : unavailableKey(s, answer.outcome),
  );
}

function listed(s: DecisionState, directory: Directory): StepAnswer | Promise<StepAnswer> {
  const prefix = s.keyPrefix ?? '';
  if (checkPrefix(directory, prefix, s.headerClient) === 'unlisted') return forged('unlisted_prefix', s.headerClient);
  if (s.cached) return keepRecord(s, usable(s.cached, s.now)); // read from the catalog moments ago: no lookup
  return lookup(s, s.headerClient ?? directory.prefixOwner.get(prefix));
}

function lookup(s: DecisionState, owner: string | undefined): Promise<StepAnswer> {
  return lookupKey(s.ctx, s.hash, owner ?? BY_KEY_OWNER, s.request.signal).then((outcome) => {
    if (!outcome.ok) return unavailableKey(s, outcome);
    noteStale(s, 'key', outcome);
    if (outcome.value === null) return refuse('invalid_key', 'unknown_key');
    return keepRecord(s, usable(outcome.value, s.now));
  });
}

/** Fair-share owner of key lookups whose client is not known before the lookup (verify by a signed key alone). */
const BY_KEY_OWNER = '(by key)';

/** The key lookup could not run; the client's policy, when read first, goes with it (its limit still counts). */
function unavailableKey(s: DecisionState, outcome: CacheOutcome<unknown>): Unavailable {
  const u: Unavailable = { unavailable: 'validation_unavailable', outcome, clientName: s.headerClient };
  if (s.policy) u.policy = s.policy;
  return u;
}

/** The record if the key may be used at `now` (revocation and expiry are judged at use time). */
function usable(record: KeyRecord, now: () => number): KeyRecord | Refusal {
  const state = keyState(record, now());
  return state === 'active' ? record : refuse('invalid_key', `${state}_key`);
}

function keepRecord(s: DecisionState, record: KeyRecord | Refusal): StepAnswer {
  if (!isValue(record)) return record;
  s.record = record;
  // No client header (verify): the key names its client.
  if (s.headerClient === undefined) s.keyClient = record.clientName;
  return undefined;
}

/** Without a client header, the policy of the client the key names comes after the key. */
const keyPolicy = (s: DecisionState): StepAnswer | Promise<StepAnswer> =>
  s.headerClient !== undefined || !s.record ? undefined : checkPolicy(s, s.record.clientName);

/** The key's client must be the one named; then the request is admitted as the key. */
function admit(s: DecisionState): StepAnswer {
  const { record, policy } = s;
  if (!record || !policy) return refuse('missing_key'); // unreachable: the steps before kept both or answered
  if (s.headerClient !== undefined && record.clientName !== s.headerClient) return refuse('client_mismatch');
  return authenticated(record, policy);
}

/** The steps in order; a re-decision after a catalog-change check starts at `RECALL`. */
export const STEPS: readonly Step[] = [identify, checkTag, checkClientName, recall, headerPolicy, keyless, checkKey, keyPolicy, admit];
export const RECALL = STEPS.indexOf(recall);

function noteStale(s: DecisionState, what: string, outcome: CacheOutcome<unknown>): void {
  if (outcome.ok && outcome.source === 'stale') log('warn', 'auth_stale_served', { requestId: s.ctx.requestId, what, keyPrefix: s.keyPrefix });
}
