/**
 * Rate limits through the real CLI (child process, test catalog): `keys create|set --rate-limit`,
 * `clients add|set --rate-limit`, `--block`, `none`, what `keys list` / `clients list` show, and
 * malformed values exiting 2 with nothing stored.
 */
import pg from 'pg';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { gateway, uniq } from './cli-support.js';

const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });

afterAll(async () => {
  await db.end();
});

type Limits = { rate_limit_requests: number | null; rate_limit_period_s: number | null };

async function keyLimit(prefix: string): Promise<Limits | undefined> {
  return (await db.query<Limits>('SELECT rate_limit_requests, rate_limit_period_s FROM api_keys WHERE prefix = $1', [prefix])).rows[0];
}
async function clientLimit(name: string): Promise<Limits | undefined> {
  return (await db.query<Limits>('SELECT rate_limit_requests, rate_limit_period_s FROM clients WHERE client_name = $1', [name])).rows[0];
}

describe('rate limits in the CLI', () => {
  it('keys create/set: a limit, a change, blocked with --block, removed with none; keys list shows it', async () => {
    const client = uniq('cli-rl');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const created = await gateway('keys', 'create', '--client', client, '--name', 'k', '--rate-limit', '100/10s', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { prefix: string; rateLimit: string };
    expect(key.rateLimit).toBe('100/10s');
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: 100, rate_limit_period_s: 10 });

    expect((await gateway('keys', 'set', key.prefix, '--rate-limit', '600/1m')).stdout).toContain('rate limit 600/60s');
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: 600, rate_limit_period_s: 60 });
    const listed = await gateway('keys', 'list', '--client', client);
    expect(listed.stdout).toMatch(/RATE LIMIT/);
    expect(listed.stdout).toContain('600/60s');

    expect((await gateway('keys', 'set', key.prefix, '--block')).code).toBe(0);
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: 0, rate_limit_period_s: 60 });
    expect((await gateway('keys', 'list', '--client', client)).stdout).toContain('blocked');
    expect((await gateway('keys', 'set', key.prefix, '--rate-limit', '0/10s', '--block')).code).toBe(0);
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: 0, rate_limit_period_s: 10 });

    expect((await gateway('keys', 'set', key.prefix, '--rate-limit', 'none')).code).toBe(0);
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: null, rate_limit_period_s: null });
  });

  it('clients add/set: a default limit, shown by clients list, removed with none', async () => {
    const client = uniq('cli-rlc');
    expect((await gateway('clients', 'add', client, '--rate-limit', '5/10s')).code).toBe(0);
    expect(await clientLimit(client)).toEqual({ rate_limit_requests: 5, rate_limit_period_s: 10 });
    const set = await gateway('clients', 'set', client, '--rate-limit', '50/30s', '--json');
    expect(JSON.parse(set.stdout)).toMatchObject({ name: client, rateLimit: '50/30s' });
    const listed = (await gateway('clients', 'list')).stdout.split('\n').find((l) => l.startsWith(client));
    expect(listed).toContain('50/30s');
    expect((await gateway('clients', 'set', client, '--rate-limit', 'none')).code).toBe(0);
    expect(await clientLimit(client)).toEqual({ rate_limit_requests: null, rate_limit_period_s: null });
  });

  it('malformed limits, 0 without --block, --block with a limit: exit 2 with a clear message, nothing stored', async () => {
    const client = uniq('cli-rlbad');
    expect((await gateway('clients', 'add', client)).code).toBe(0);
    const key = JSON.parse((await gateway('keys', 'create', '--client', client, '--name', 'k', '--json')).stdout) as { prefix: string };
    const cases: Array<[string[], string]> = [
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit', '100'], 'use <requests>/<period>'],
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit', '100/10h'], 'use <requests>/<period>'],
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit=-1/10s'], 'use <requests>/<period>'],
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit', '10/90s'], 'the period must be 1s to 60s'],
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit', '10/0s'], 'the period must be 1s to 60s'],
      [['keys', 'create', '--client', client, '--name', 'x', '--rate-limit', '0/10s'], 'add --block to confirm'],
      [['keys', 'set', key.prefix, '--rate-limit', '0/10s'], 'add --block to confirm'],
      [['keys', 'set', key.prefix, '--rate-limit', '5/10s', '--block'], 'cannot be combined'],
      [['keys', 'set', key.prefix], 'nothing to change'],
      [['keys', 'set', key.prefix, '--rate-limit', 'lots'], '--rate-limit: "lots" is not a rate limit'],
      [['clients', 'set', client, '--rate-limit', '5/s/s'], '--rate-limit'],
      [['clients', 'set', client, '--rate-limit', '0/1m'], 'add --block to confirm'],
    ];
    const results = await Promise.all(cases.map(([args]) => gateway(...args)));
    cases.forEach(([args, message], i) => {
      expect({ args, code: results[i]?.code, stderr: results[i]?.stderr.includes(message) }).toEqual({ args, code: 2, stderr: true });
    });
    expect((await db.query('SELECT count(*)::int AS n FROM api_keys WHERE client_name = $1', [client])).rows[0]).toEqual({ n: 1 });
    expect(await keyLimit(key.prefix)).toEqual({ rate_limit_requests: null, rate_limit_period_s: null });
    expect(await clientLimit(client)).toEqual({ rate_limit_requests: null, rate_limit_period_s: null });
  });
});
