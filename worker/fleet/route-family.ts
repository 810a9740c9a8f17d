/**
 * The route family a request path is counted under in the isolate snapshot: a closed list, so the
 * fleet's series stay bounded whatever paths clients send. Pure.
 */
import type { RouteFamily } from '../../drizzle/fleet-snapshot.js';

const DATA_OPS: ReadonlySet<string> = new Set(['fetch', 'insert', 'update', 'delete', 'query', 'rpc', 'transaction']);

/** `/gateway/fetch` → fetch, `/rpc/fn` → rpc, `/v1/auth/verify` → verify, `/__gateway/…` → admin. */
export function routeFamily(path: string): RouteFamily {
  const p = path.startsWith('/db/') ? path.slice(3) : path;
  if (p.startsWith('/gateway/')) {
    const op = p.slice('/gateway/'.length);
    return DATA_OPS.has(op) ? (op as RouteFamily) : 'other';
  }
  if (p.startsWith('/rpc/')) return 'rpc';
  if (p === '/v1/auth/verify') return 'verify';
  if (p === '/health' || p === '/' || path === '/db/health') return 'health';
  if (p.startsWith('/__gateway/')) return 'admin';
  return 'other';
}
