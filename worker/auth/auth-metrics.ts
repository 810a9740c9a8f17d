/**
 * Per-client auth figures for `/__gateway/status`: lookups in flight and refused by fair share
 * (auth-query.ts), forged-key refusals and fail-open admissions (refusals.ts), unknown-client
 * refusals (one total), and the client directory's size and age. Counts only, never key material.
 */
import type { Settings } from '../config.js';
import { createRefusalCounters, type ClientRefusals, type RefusalCounters } from './refusals.js';
import { shareCap, type ShareCounters, type ShareGate } from './fair-share.js';
import { directoryStats } from './client-directory.js';
import type { DirectoryService } from './directory.js';

/** Bound on clients with their own refusal row. */
const MAX_CLIENT_ROWS = 1000;

/** The isolate's auth refusal counters (one of its services). */
export const createAuthRefusals = () => createRefusalCounters(MAX_CLIENT_ROWS);

type ClientAuthFigures = ShareCounters & ClientRefusals;

/** The auth state the figures come from. */
type AuthState = { readonly shareGate: ShareGate; readonly authRefusals: RefusalCounters; readonly directory: DirectoryService };

export function authStatus(settings: Settings, state: AuthState) {
  const shares = state.shareGate.snapshot();
  const refusals = state.authRefusals.snapshot();
  const clients: Record<string, ClientAuthFigures> = {};
  const empty: ClientAuthFigures = { inFlight: 0, refusedByShare: 0, forgedKeys: 0, failOpenAdmissions: 0 };
  for (const [name, s] of Object.entries(shares)) clients[name] = { ...empty, ...s };
  for (const [name, r] of Object.entries(refusals.byClient)) clients[name] = { ...empty, ...clients[name], ...r };
  return {
    shareCap: shareCap(settings.DB_POOL_MAX, settings.AUTH_CLIENT_MAX_SHARE),
    unknownClients: refusals.unknownClients,
    forgedKeys: refusals.forgedKeys,
    directory: directoryStats(state.directory),
    clients,
  };
}
