/**
 * Which database a client's data lives in: `clients.database_url`, else `TENANT_DATABASE_URL`.
 * Taken from the client policy the auth middleware decided on and carried on the request: one
 * read per request, and the policy that passed the active/frozen checks is the one used here.
 */
import type { AuthContext } from '../auth/context.js';
import type { Settings } from '../config.js';
import { targetOf, type Target } from '../db/target.js';
import { GatewayError } from '../errors.js';

export type Tenant = { databaseUrl: string; target: Target };

/** The tenant of the authenticated caller; 503 when auth admitted it without a policy, 500 on a bad or refused URL. */
export function resolveTenant(settings: Settings, auth: AuthContext): Tenant {
  const { policy } = auth;
  if (!policy) {
    // Only AUTH_FAIL_MODE=open admits a request whose client record could not be read.
    throw new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'The client record could not be read; retry shortly.' });
  }
  const databaseUrl = policy.databaseUrl ?? settings.tenantDatabaseUrl;
  let target: Target;
  try {
    target = targetOf(databaseUrl); // parsed once per isolate and URL
  } catch {
    throw new GatewayError('gateway_misconfigured', `Client "${auth.clientName}" has an invalid database_url`, {
      hint: 'Fix clients.database_url (npm run gateway -- clients --help).',
    });
  }
  // Checked before any connection: a stored URL with `host=`, `options=`… could reach another database.
  if (policy.databaseUrl !== null && target.refusedParams.length > 0) {
    throw new GatewayError('gateway_misconfigured', `Client "${auth.clientName}" has a database_url with connection parameters the gateway refuses`, {
      hint: 'A tenant URL may carry only sslmode and channel_binding after "?" (npm run gateway -- clients set <name> --database-url <url>).',
    });
  }
  return { databaseUrl, target };
}
