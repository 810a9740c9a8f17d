/**
 * Waits until `n` sessions of `role` wait on a lock (pg_stat_activity): lookups that got their
 * session and sent their query, blocked on a locked catalog table.
 */
import { adminDatabaseUrl } from './harness.js';
import { withConnection } from './seed.js';

export async function untilLockWaiters(role: string, n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await withConnection(
      adminDatabaseUrl,
      async (s) =>
        (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'`, [role])).rows,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    if (Date.now() > deadline) throw new Error(`${n} lock waiters of ${role} not reached`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
