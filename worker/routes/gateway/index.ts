/** The data routes, each mounted at `/gateway/*` and again under the SDK's unified-root `/db` prefix. */
import { Hono } from 'hono';
import type { AuthedEnv } from '../../env.js';
import { deleteRoute } from './delete.js';
import { fetchRoute } from './fetch.js';
import { insertRoute } from './insert.js';
import { queryRoute } from './query.js';
import { rpcRoute } from './rpc.js';
import { transactionRoute } from './transaction.js';
import { updateRoute } from './update.js';

export const gatewayRoutes = new Hono<AuthedEnv>();

for (const route of [fetchRoute, insertRoute, updateRoute, deleteRoute, queryRoute, rpcRoute, transactionRoute]) {
  gatewayRoutes.route('/', route);
  gatewayRoutes.route('/db', route);
}
