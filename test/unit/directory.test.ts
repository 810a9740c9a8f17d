/**
 * The client directory policy: built from one query's rows (bounded, incomplete beyond the bound),
 * the freshness rules that decide between answering from memory, refreshing in the background and
 * reloading first, and the legacy-prefix check.
 */
import { describe, expect, it } from 'vitest';
import {
  answersWithoutReload,
  buildDirectory,
  checkPrefix,
  decide,
  MAX_PREFIXES_PER_CLIENT,
  reloadBackingOff,
  type DirectoryRow,
} from '../../worker/auth/directory.js';

const row = (name: string, prefixes: string[] = [], over: Partial<DirectoryRow> = {}): DirectoryRow => ({
  client_name: name,
  database_url: null,
  is_active: true,
  is_frozen: false,
  api_key_enforcement: null,
  key_prefixes: prefixes,
  ...over,
});
const build = (rows: DirectoryRow[], maxClients = 10) => buildDirectory(rows, { loadedAt: 1000, maxClients, defaultEnforcement: 'required' });
const f = { ttlMs: 30_000, recheckMs: 1000 };

describe('client directory', () => {
  it('holds policies with the gateway default enforcement where a client has none', () => {
    const d = build([row('a', ['ath_aaaaaaaaaa']), row('b', [], { api_key_enforcement: 'optional', is_frozen: true })]);
    expect(d.clients.get('a')).toMatchObject({ enforcement: 'required', isActive: true, isFrozen: false });
    expect(d.clients.get('b')).toMatchObject({ enforcement: 'optional', isFrozen: true });
    expect(d).toMatchObject({ complete: true, prefixesComplete: true });
    expect(d.prefixOwner.get('ath_aaaaaaaaaa')).toBe('a');
  });

  it('is incomplete beyond its bound: absent names are then no proof', () => {
    const d = build([row('a'), row('b'), row('c')], 2);
    expect(d.clients.size).toBe(2);
    expect(d.complete).toBe(false);
    expect(checkPrefix(d, 'ath_zzzzzzzzzz', 'c')).toBe('unknown');
  });

  it('answers from memory while fresh, refreshes in the background after the TTL, reloads first after twice the TTL', () => {
    const d = build([row('a')]);
    expect(decide(undefined, false, 0, f)).toBe('reload');
    expect(decide(d, true, 1000 + 29_999, f)).toBe('answer');
    expect(decide(d, true, 1000 + 30_000, f)).toBe('answer-and-refresh');
    expect(decide(d, true, 1000 + 59_999, f)).toBe('answer-and-refresh');
    expect(decide(d, true, 1000 + 60_000, f)).toBe('reload');
  });

  it('refuses an unknown name from memory within the recheck interval, then reloads once', () => {
    const d = build([row('a')]);
    expect(decide(d, false, 1000 + 999, f)).toBe('answer');
    expect(decide(d, false, 1000 + 1000, f)).toBe('reload');
    expect(decide(d, false, 1000, { ttlMs: 30_000, recheckMs: 0 })).toBe('reload');
  });

  it('lists legacy prefixes per client and in total; a client with too many keys has no list', () => {
    const many = Array.from({ length: MAX_PREFIXES_PER_CLIENT + 1 }, (_, i) => `ath_${String(i).padStart(10, '0')}`);
    const d = build([row('a', ['ath_aaaaaaaaaa']), row('b', ['ath_bbbbbbbbbb']), row('big', many)]);
    expect(checkPrefix(d, 'ath_aaaaaaaaaa', 'a')).toBe('listed');
    expect(checkPrefix(d, 'ath_bbbbbbbbbb', 'a')).toBe('unlisted'); // another client's prefix
    expect(checkPrefix(d, 'ath_cccccccccc', 'nobody')).toBe('unlisted');
    expect(checkPrefix(d, 'ath_0000000000', 'big')).toBe('unknown');
    expect(checkPrefix(d, 'ath_bbbbbbbbbb', undefined)).toBe('listed');
    expect(checkPrefix(d, 'ath_cccccccccc', undefined)).toBe('unknown'); // "big" lists nothing
    const small = build([row('a', ['ath_aaaaaaaaaa'])]);
    expect(checkPrefix(small, 'ath_cccccccccc', undefined)).toBe('unlisted');
  });
});

describe('client directory whose reload could not run', () => {
  const limits = { ...f, staleIfUnavailableMs: 5000 };

  it('says "not listed" only on a copy loaded within the recheck interval; serves a listed name within 2 × TTL + the fail-static window', () => {
    const d = build([row('a')]); // loaded at 1000
    expect(answersWithoutReload(d, false, 1000 + 999, limits)).toBe(true);
    expect(answersWithoutReload(d, false, 1000 + 1000, limits)).toBe(false); // → 503, not 403
    expect(answersWithoutReload(d, true, 1000 + 64_999, limits)).toBe(true);
    expect(answersWithoutReload(d, true, 1000 + 65_000, limits)).toBe(false);
  });

  it('a failed reload is not retried within the recheck interval, and never holds back after a newer copy', () => {
    const d = build([row('a')]); // loaded at 1000
    expect(reloadBackingOff(d, undefined, 5000, f)).toBe(false);
    expect(reloadBackingOff(d, 4000, 4999, f)).toBe(true);
    expect(reloadBackingOff(d, 4000, 5000, f)).toBe(false);
    expect(reloadBackingOff(undefined, 4000, 4500, f)).toBe(true); // nothing loaded yet: still one try per interval
    expect(reloadBackingOff(d, 900, 1500, f)).toBe(false); // the copy is newer than the failure
  });
});
