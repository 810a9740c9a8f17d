/**
 * The auth records an isolate caches: an API key by hash and a client's policy. Plain data, shared
 * by the lookups that load them, the caches that hold them and the changes that drop them.
 */
import type { KeyScopes } from '../../drizzle/schema.js';
import type { RateLimit } from '../ratelimit/limit.js';

export type KeyRecord = {
  id: string;
  clientName: string;
  prefix: string;
  scopes: KeyScopes;
  /** Epoch ms, or null. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** The key's own rate limit (null = its client's default applies). */
  rateLimit: RateLimit | null;
};

export type Enforcement = 'required' | 'optional';

export type ClientPolicy = {
  clientName: string;
  /** Tenant database of the client; null = TENANT_DATABASE_URL. Never shown or logged. */
  databaseUrl: string | null;
  isActive: boolean;
  isFrozen: boolean;
  /** What applies: the client's setting or the gateway default. */
  enforcement: Enforcement;
  /** Default rate limit of its keys without one of their own; null = none. */
  rateLimit: RateLimit | null;
};
