/**
 * A bare worker for test/integration/neon-http-workerd.test.ts: the driver's `neon()` inside
 * workerd, pointed at the local proxy's HTTP SQL endpoint (`http://<PROXY>/sql`), so the test can
 * count what workerd's outbound fetch costs there. Routes: `/run?n=` runs n single statements and
 * one batch in sequence; `/abort?marker=` starts a long statement, waits until Postgres runs it,
 * aborts its fetch and answers what the driver threw.
 */
import { neon, neonConfig } from '@neondatabase/serverless';

type Env = { PROXY: string; DATABASE_URL: string };

async function run(env: Env, n: number): Promise<unknown> {
  const sql = neon(env.DATABASE_URL);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(await sql.query('SELECT $1::int AS i', [i]));
  out.push(await sql.transaction([sql`SELECT current_setting('transaction_isolation') AS iso`], { isolationLevel: 'Serializable', readOnly: true }));
  return out;
}

async function abort(env: Env, marker: string): Promise<unknown> {
  const ac = new AbortController();
  const slow = neon(env.DATABASE_URL, { fetchOptions: { signal: ac.signal } })
    .query(`SELECT pg_sleep(30) AS ${marker}`)
    .then(
      () => 'finished',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
  const probe = neon(env.DATABASE_URL);
  for (let i = 0; i < 250; i++) {
    const [row] = await probe.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
      [marker],
    );
    if (row?.n === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  ac.abort();
  return await slow;
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    // The driver reads its endpoint from a global: set per request, the same value every time.
    neonConfig.fetchEndpoint = () => `http://${env.PROXY}/sql`;
    const url = new URL(req.url);
    if (url.pathname === '/run') return Response.json(await run(env, Number(url.searchParams.get('n') ?? '1')));
    const marker = url.searchParams.get('marker') ?? '';
    if (url.pathname === '/abort' && /^[a-z][a-z0-9_]{0,40}$/.test(marker)) return Response.json(await abort(env, marker));
    return new Response('not found', { status: 404 });
  },
};
