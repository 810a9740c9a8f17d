/**
 * Which database a client's data lives in: `clients.database_url`, else `TENANT_DATABASE_URL`.
 * Read from the client policy the auth middleware has just loaded (cached), never a second query.
 */
import type { SessionContext } from '../db/with-session.js';
import { targetOf, type Target } from '../db/target.js';
import { loadClientPolicy } from '../auth/policy.js';
import { GatewayError } from '../errors.js';
import { isolateScoped } from '../isolate.js';

export type Tenant = {
  databaseUrl: string;
  target: Target;
  /** The tenant database is one of the gateway's own: its catalog tables must stay hidden. */
  sharesGatewayDatabase: boolean;
};

/** Resolves the tenant of `clientName`; 503 when the policy cannot be read, 500 on a bad URL. */
export async function resolveTenant(ctx: SessionContext, clientName: string, signal?: AbortSignal): Promise<Tenant> {
  const outcome = await loadClientPolicy(ctx, clientName, signal);
  if (!outcome.ok) {
    throw new GatewayError('database_unavailable', 'Tenant database unavailable', { hint: 'The client record could not be read; retry shortly.' });
  }
  if (!outcome.value) throw new GatewayError('unknown_client', `Unknown client "${clientName}"`);
  const settings = ctx.isolate.settings;
  const databaseUrl = outcome.value.databaseUrl ?? settings.tenantDatabaseUrl;
  let target: Target;
  try {
    target = targetOf(databaseUrl);
  } catch {
    throw new GatewayError('gateway_misconfigured', `Client "${clientName}" has an invalid database_url`, {
      hint: 'Fix clients.database_url (npm run gateway -- clients --help).',
    });
  }
  return { databaseUrl, target, sharesGatewayDatabase: gatewayLabelsOf(ctx.isolate).has(target.label) };
}

/** host:port/database of every database the gateway itself uses: fixed per isolate, parsed once. */
const gatewayLabelsOf = isolateScoped('gatewayLabels', ({ settings }) =>
  new Set([settings.DATABASE_URL, settings.authDatabaseUrl, settings.loggingDatabaseUrl].map((u) => targetOf(u).label)),
);
