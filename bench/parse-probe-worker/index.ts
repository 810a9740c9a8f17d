/**
 * Scenario 13's parse probe (any GET answers `ok`): `POST /` with `{"sql": "…", "times": n}` runs the gateway's own
 * translation of SQL text (pre-scan, parse, translate: worker/gateway/sql-select.ts) n times in one
 * request and answers how the last one ended. Time inside workerd stands still while code runs, so
 * the bench reads workerd's CPU from /proc around the request instead: n parses per request make
 * the clock's 10 ms ticks small against what is measured.
 */
import { translateSelect } from '../../worker/gateway/sql-select.js';

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response('ok'); // the bench's readiness check
    const { sql, times } = (await request.json()) as { sql: string; times: number };
    let outcome = 'none';
    for (let i = 0; i < times; i++) {
      const r = translateSelect(sql, []);
      outcome = r.ok ? 'ok' : r.error.code;
    }
    return Response.json({ outcome });
  },
};
