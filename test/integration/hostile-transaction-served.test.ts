/**
 * Exactly-once answers over HTTP against the run's shared served worker (the deploy bundle in
 * `workerd serve`; test/setup/global.ts), at the default pool (DB_POOL_MAX 8): 100 concurrent
 * transactions, each with its own idempotency_key and one insert. Every first answer is 200 or a
 * retryable answer carrying Retry-After; a retry of each non-200 then gets a definitive answer;
 * and the rows committed are exactly the transactions answered "committed" — none applied twice,
 * none committed behind a "retry".
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { clientWithKey } from '../support/served-client.js';
import { queryOnce } from '../support/query-once.js';

const N = 100;
const databaseUrl = inject('databaseUrl');
const tenantDatabaseUrl = inject('tenantDatabaseUrl');
const table = `tx_served_${Date.now().toString(36)}`;
const clientName = `tx_served_${Date.now().toString(36)}`;

const gatewayUrl = inject('gatewayUrl');
let apiKey: string;

beforeAll(async () => {
  await queryOnce(tenantDatabaseUrl, `CREATE TABLE ${table} (id serial PRIMARY KEY, label text NOT NULL)`);
  apiKey = await clientWithKey(databaseUrl, clientName, { operations: ['read', 'insert'], tables: [table] });
});

type Answer = { status: number; retryAfter: string | null; replayed: boolean; committed: boolean; text: string };

async function send(label: string): Promise<Answer> {
  const res = await fetch(`${gatewayUrl}/gateway/transaction`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-athena-client': clientName, 'x-athena-key': apiKey },
    body: JSON.stringify({ idempotency_key: label, operations: [{ id: 'i', kind: 'insert', payload: { table_name: table, insert_body: { label } } }] }),
  });
  const text = await res.text();
  const committed = res.status === 200 && (JSON.parse(text) as { data?: { committed?: boolean } }).data?.committed === true;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), replayed: res.headers.get('idempotent-replayed') === 'true', committed, text };
}

const reason = (a: Answer) => (a.status === 200 ? '200' : `${a.status} ${(JSON.parse(a.text) as { error?: { message?: string } }).error?.message ?? ''}`);
const tally = (answers: Answer[]) => {
  const t: Record<string, number> = {};
  for (const a of answers) t[reason(a)] = (t[reason(a)] ?? 0) + 1;
  return t;
};

describe('served worker: 100 concurrent keyed transactions at the default budget', () => {
  it('answers 200 or retry-with-Retry-After; each retry is definitive; committed rows = committed answers', { timeout: 300_000 }, async () => {
    const labels = Array.from({ length: N }, (_, i) => `${table}-${i}`);
    const first = await Promise.all(labels.map(send));
    const retryable = first.filter((a) => a.status !== 200);
    expect(
      retryable.filter((a) => !((a.status === 503 || a.status === 409) && a.retryAfter !== null && Number(a.retryAfter) >= 1)),
      JSON.stringify(tally(first)),
    ).toEqual([]);

    // Nothing committed behind a "retry": the rows are exactly the first 200s.
    const committedFirst = await queryOnce<{ n: number }>(tenantDatabaseUrl, `SELECT count(*)::int AS n FROM ${table}`);
    expect(committedFirst[0]?.n).toBe(first.filter((a) => a.committed).length);

    // Retry every non-200 once, one at a time (the load is over): each answer is definitive.
    const final = new Map(labels.map((l, i) => [l, first[i] as Answer]));
    for (const [i, label] of labels.entries()) {
      if ((first[i] as Answer).status === 200) continue;
      const retry = await send(label);
      // Definitive, and a fresh run: the first attempt committed nothing.
      expect([label, retry.status, retry.committed, retry.replayed], retry.text).toEqual([label, 200, true, false]);
      final.set(label, retry);
    }
    const rows = await queryOnce<{ label: string; n: number }>(tenantDatabaseUrl, `SELECT label, count(*)::int AS n FROM ${table} GROUP BY label`);
    const committedAnswers = [...final.values()].filter((a) => a.committed).length;
    expect(committedAnswers).toBe(N);
    expect(rows.length).toBe(committedAnswers);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    // A replay of any of them is the first committed answer, byte for byte.
    const again = await send(labels[0] as string);
    expect([again.status, again.replayed, again.text]).toEqual([200, true, final.get(labels[0] as string)?.text]);
    console.log(`first answers: ${JSON.stringify(tally(first))}; retried ${retryable.length}, all definitive`);
  });
});
