/**
 * How much like Neon the local database path is: the dev stack, the test suite and the bench read
 * the same vars (docs/configuration.md "Local stack"). By default the proxy drops the startup
 * parameters Neon drops and adds no distance; `DEV_DB_STARTUP_PARAMS=keep` forwards them all.
 */
import { z } from 'zod';
import { intVar } from '../drizzle/env-vars.js';
import { NEON_DROPPED_PARAMS } from './startup-packet.js';
import type { ConnectionStats } from './ws-bridge.js';
import type { WsProxyOptions } from './ws-proxy.js';
import type { SqlRequestStats } from './neon-http-endpoint.js';

const schema = z.object({
  DEV_DB_STARTUP_PARAMS: z.enum(['drop', 'keep']).optional().default('drop'),
  DEV_DB_RTT_MS: intVar(0, 0, 10_000),
  DEV_DB_COLD_START_MS: intVar(0, 0, 60_000),
  DEV_DB_IDLE_MS: intVar(300_000, 0, 86_400_000),
});

/** The proxy's shaping, as `startWsProxy` takes it. */
export type NeonLike = Required<Pick<WsProxyOptions, 'dropStartupParams' | 'rttMs' | 'coldStartMs' | 'idleMs'>>;

export type NeonLikeResult = { ok: true; value: NeonLike } | { ok: false; message: string };

export function readNeonLike(env: NodeJS.ProcessEnv): NeonLikeResult {
  const parsed = schema.safeParse({ ...env, DEV_DB_STARTUP_PARAMS: env.DEV_DB_STARTUP_PARAMS?.trim() || undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what = issue?.code === 'invalid_value' ? 'must be drop or keep' : (issue?.message ?? 'is invalid');
    return { ok: false, message: `${String(issue?.path[0] ?? 'environment')} ${what}` };
  }
  const e = parsed.data;
  return {
    ok: true,
    value: {
      dropStartupParams: e.DEV_DB_STARTUP_PARAMS === 'drop' ? NEON_DROPPED_PARAMS : [],
      rttMs: e.DEV_DB_RTT_MS,
      coldStartMs: e.DEV_DB_COLD_START_MS,
      idleMs: e.DEV_DB_IDLE_MS,
    },
  };
}

/** The same, throwing on a bad value (test setup and bench, where there is nobody to print to). */
export function neonLikeOrThrow(env: NodeJS.ProcessEnv): NeonLike {
  const r = readNeonLike(env);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** One line saying what the proxy does, for the stack's console. */
export function describeNeonLike(n: NeonLike): string {
  const params = n.dropStartupParams.length
    ? `drops startup ${n.dropStartupParams.join(', ')} (DEV_DB_STARTUP_PARAMS=keep forwards them)`
    : 'forwards every startup parameter (DEV_DB_STARTUP_PARAMS=keep)';
  const rtt = n.rttMs ? `${n.rttMs} ms round trip (DEV_DB_RTT_MS)` : 'no added round trip (DEV_DB_RTT_MS=0)';
  const cold = n.coldStartMs
    ? `${n.coldStartMs} ms resume after ${n.idleMs} ms idle (DEV_DB_COLD_START_MS, DEV_DB_IDLE_MS)`
    : 'no resume delay (DEV_DB_COLD_START_MS=0)';
  return `database proxy: ${params}; ${rtt}; ${cold}`;
}

/** One log line per proxied connection: what it cost on the wire. */
export function connectionLine(s: ConnectionStats): string {
  const dropped = s.droppedParams.length ? `, dropped ${s.droppedParams.join(' ')}` : '';
  const resume = s.resumeWaitMs ? `, waited ${s.resumeWaitMs} ms for a resume` : '';
  return `${new Date().toISOString()} ${s.address}/${s.database ?? '?'}: ${s.roundTrips} round trips + ${s.setupRoundTrips} of set-up, ${s.flights} flights, ${s.clientMessages} messages out, ${s.serverChunks} chunks back${dropped}${resume}\n`;
}

/** One log line per request to the HTTP SQL endpoint. */
export function sqlRequestLine(s: SqlRequestStats): string {
  const what = s.batch ? `batch of ${s.statements}` : `${s.statements} statement`;
  const end = s.aborted ? `client gave up${s.cancelled ? ', statement cancelled' : ''}` : `${s.status}`;
  const resume = s.resumeWaitMs ? `, waited ${s.resumeWaitMs} ms for a resume` : '';
  return `${new Date().toISOString()} http ${s.address || '?'}/${s.database ?? '?'}: ${what}, ${end}, ${s.roundTrips} round trip + ${s.setupRoundTrips} of set-up (request ${s.request} on its connection), ${s.spanMs} ms in the proxy of which ${s.postgresMs} ms Postgres${resume}\n`;
}
