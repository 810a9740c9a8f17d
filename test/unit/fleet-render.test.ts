/**
 * The `status --fleet` screen as text: exact lines for a small fleet, 80 columns for a busy one,
 * colour only where a threshold is crossed and only when asked (never under NO_COLOR or off a
 * terminal), and one shortening of target labels for every screen.
 */
import { describe, expect, it } from 'vitest';
import { fleetView } from '../../drizzle/fleet-view.js';
import { colourWanted, visible } from '../../cli/status/colour.js';
import { rate, renderFleet, uptime } from '../../cli/status/fleet-render.js';
import { shortTarget } from '../../cli/status/target-name.js';
import { family, snapshot, START_MS } from '../support/fleet-snapshot.js';

const NEON = 'ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb';

function busyFleet(isolates: number) {
  const pairs = Array.from({ length: isolates }, (_, n) => {
    const id = `${n.toString(16).padStart(4, '0')}deadbeef`;
    const base = { budgets: [{ target: NEON, in_use: 128, size: 128, waiting: 4000, slow_acquires: 0, timeouts: 0, acquired: 0 }] };
    const previous = snapshot(id, 3_600_000 * 30, { ...base, routes: { fetch: family([0, 0, 0, 0, 0, 0]) } });
    const latest = snapshot(id, 3_600_000 * 30 + 1000, {
      ...base,
      budgets: [{ ...base.budgets[0], slow_acquires: 99_999, timeouts: 99_999 } as (typeof base.budgets)[0]],
      refusals: { database_busy: 99_999, database_unavailable: 99_999 },
      routes: Object.fromEntries(
        ['fetch', 'insert', 'update', 'delete', 'query', 'rpc', 'transaction', 'verify'].map((f) => [
          f,
          family([987_654, 0, 99_999, 99_999, 99_999, 99_999], { 11: 10, 0: 10 }),
        ]),
      ),
      telemetry: { accepted: 0, dropped: { saturated: 123_456, unavailable: 7, failed: 9 } },
    });
    return { latest, previous };
  });
  return fleetView(pairs, START_MS + 3_600_000 * 30 + 1000);
}

describe('renderFleet', () => {
  it('a small fleet, plain: totals, the target, one line per isolate with its latency', () => {
    const latest = snapshot('a1b2c3d4e5f6', 62_000, {
      budgets: [{ target: '127.0.0.1:5432/tenant', in_use: 2, size: 8, waiting: 0, slow_acquires: 0, timeouts: 0, acquired: 50 }],
      routes: { fetch: family([60, 0, 2, 0, 0, 0], { 0: 40, 1: 22 }) },
    });
    const previous = snapshot('a1b2c3d4e5f6', 60_000, { routes: { fetch: family([20, 0, 2, 0, 0, 0], { 0: 22 }) } });
    const lines = renderFleet(fleetView([{ latest, previous }], START_MS + 62_500), { colour: false, source: 'flusher http://127.0.0.1:8788' });
    expect(lines).toEqual([
      'fleet  1 isolate  at 10:01:02  from flusher http://127.0.0.1:8788',
      '',
      'TOTAL              20   20    0    0    0    0    0    0     2/8    0    0',
      '  p50/p99 ms  fetch 5.5/9.9',
      '',
      'TARGET                             PERMITS  WAIT SLOW/s  TMO/s',
      '127.0.0.1:5432/tenant                  2/8     0      0      0',
      '',
      'ISOLATE      UP REQ/S  2XX  4XX  5XX  429  503 BUSY DOWN PERMITS WAIT SLOW',
      'a1b2c3d4   1m02    20   20    0    0    0    0    0    0     2/8    0    0',
      '  p50/p99 ms  fetch 5.5/9.9',
    ]);
  });

  it('a busy fleet fits 80 columns, with and without colour, and colour never moves a column', () => {
    const view = busyFleet(5);
    const plain = renderFleet(view, { colour: false, source: `flusher http://${'long-host.'.repeat(6)}example:8788` });
    const painted = renderFleet(view, { colour: true, source: `flusher http://${'long-host.'.repeat(6)}example:8788` });
    for (const l of [...plain, ...painted]) expect(visible(l).length, l).toBeLessThanOrEqual(80);
    expect(plain.join('\n')).not.toContain('\x1b[');
    expect(painted.map(visible)).toEqual(plain);
    // Thresholds: DOWN and 5xx red, BUSY and waiters yellow, a full budget red, drops red (a line too long is cut, still red).
    const isolate = painted.find((l) => visible(l).startsWith('0000dead')) ?? '';
    expect(isolate).toContain('\x1b[31m');
    expect(isolate).toContain('\x1b[33m');
    expect(plain).toContain('  ! telemetry drops  saturated 123456 (123k/s)  unavailable 7 (7.0/s)  failed 9 (9.0/s)'.slice(0, 80).replace(/  failed.*/, ''));
    expect(plain).toContain('                     failed 9 (9.0/s)');
    expect(painted).toContain('\x1b[31m  ! telemetry drops  \x1b[0m\x1b[31msaturated 123456 (123k/s)\x1b[0m  \x1b[31munavailable 7 (7.0/s)\x1b[0m');
    // Nothing is cut: every family's latency is on some line.
    expect(plain.filter((l) => l.includes('transaction 5.0/10000'))).toHaveLength(6);
    expect(plain).toContain('ep-cool-darkness-12…:5432/neondb   640/640 20000   500k   500k');
  });

  it('an empty fleet says where isolates come from', () => {
    const lines = renderFleet(fleetView([], START_MS), { colour: true, source: 'catalog isolate_snapshots' });
    expect(lines).toEqual([
      'fleet  0 isolates  at 10:00:00  from catalog isolate_snapshots',
      '',
      'no isolate sent a snapshot within the expiry (one comes with each counter flush)',
    ]);
  });
});

describe('console formats', () => {
  it('rates in at most 4 characters, uptimes in at most 6', () => {
    expect([0, 0.04, 9.94, 10, 999.4, 999.6, 9949, 12_345, 999_499, 999_999, 9_949_999, 123_456_789].map(rate)).toEqual([
      '0',
      '0.0',
      '9.9',
      '10',
      '999',
      '1.0k',
      '9.9k',
      '12k',
      '999k',
      '1.0M',
      '9.9M',
      '123M',
    ]);
    expect([59_999, 60_000, 3_599_000, 3_600_000, 86_399_000, 86_400_000 * 12 + 3_600_000 * 3].map(uptime)).toEqual([
      '59s',
      '1m00',
      '59m59',
      '1h00m',
      '23h59m',
      '12d03h',
    ]);
  });

  it('target labels: as they are when they fit; the domain goes first, then the middle', () => {
    expect(shortTarget('127.0.0.1:5432/tenant', 32)).toBe('127.0.0.1:5432/tenant');
    expect(shortTarget(NEON, 40)).toBe('ep-cool-darkness-123456:5432/neondb');
    expect(shortTarget(NEON, 32)).toBe('ep-cool-darkness-12…:5432/neondb');
    expect(shortTarget('10.200.300.400:5432/a-very-long-database-name-here', 32)).toHaveLength(32);
  });

  it('colour only on a terminal without NO_COLOR', () => {
    expect(colourWanted(true, {})).toBe(true);
    expect(colourWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted(false, {})).toBe(false);
    expect(colourWanted(undefined, {})).toBe(false);
  });
});
