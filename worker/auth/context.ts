/** Who a request is, as decided by the auth middleware; read by handlers through `c.get('auth')`. */
import type { KeyScopes } from '../../drizzle/schema.js';
import type { ClientPolicy } from './records.js';
import type { AppliedLimit } from '../ratelimit/limit.js';

export type AuthContext = {
  clientName: string;
  /** False when enforcement is optional and no key was presented. */
  authenticated: boolean;
  key?: { id: string; prefix: string; scopes: KeyScopes; expiresAt: string | null };
  /** Admitted unverified under AUTH_FAIL_MODE=open: may read (AUTH_FAIL_OPEN_SCOPES), never write. */
  failOpen?: true;
  /** The client policy auth decided on (active, not frozen); absent only when it failed open before reading it. */
  policy?: ClientPolicy;
  /** The rate limit this request counts against (the key's own, else the client's); absent = none. */
  rateLimit?: AppliedLimit;
};
