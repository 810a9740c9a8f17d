/** The worker: composes middleware and routes along the request path; no logic here. */
import { Hono } from 'hono';
import type { AppEnv } from './env.js';
import { requestContext } from './middleware/request-context.js';
import { refusals } from './middleware/refusals.js';
import { fleetMeter } from './middleware/fleet-meter.js';
import { onError, notFound } from './middleware/errors.js';
import { counters } from './middleware/counters.js';
import { requestLog } from './middleware/request-log.js';
import { gatewayGuard } from './middleware/gateway-guard.js';
import { authenticate } from './middleware/authenticate.js';
import { rateLimit } from './middleware/rate-limit.js';
import { health } from './routes/health.js';
import { ready } from './routes/ready.js';
import { verify } from './routes/verify.js';
import { status } from './routes/status.js';
import { countersFlush } from './routes/counters-flush.js';
import { gatewayRoutes } from './routes/gateway/index.js';

const app = new Hono<AppEnv>();

app.use(requestContext());
app.use(fleetMeter());
app.use(refusals());
app.use(counters());
app.use(requestLog());
// Wrong method (405), unsupported operation (404) and declared oversize body (413) answer before auth.
app.use(gatewayGuard());
// Rate limits right after auth: a limited request is refused before any permit or query.
app.use('/gateway/*', authenticate(), rateLimit());
app.use('/db/gateway/*', authenticate(), rateLimit());
app.use('/rpc/*', authenticate(), rateLimit());
app.use('/db/rpc/*', authenticate(), rateLimit());
app.route('/', health);
app.route('/', ready);
app.route('/', verify);
app.route('/', status);
app.route('/', countersFlush);
app.route('/', gatewayRoutes);
app.onError(onError);
app.notFound(notFound);

export default app;
/** The Durable Object class every rate limit counts in (binding RATE_LIMITER in wrangler.toml). */
export { RateLimiter } from './ratelimit/limiter-object.js';
