/** The worker: composes middleware and routes along the request path; no logic here. */
import { Hono } from 'hono';
import type { AppEnv } from './env.js';
import { requestContext } from './middleware/request-context.js';
import { onError, notFound } from './middleware/errors.js';
import { health } from './routes/health.js';
import { ready } from './routes/ready.js';

const app = new Hono<AppEnv>();

app.use(requestContext());
app.route('/', health);
app.route('/', ready);
app.onError(onError);
app.notFound(notFound);

export default app;
