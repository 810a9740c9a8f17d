/**
 * Where `status --fleet` reads: the flusher when one is named (flag, FLUSHER_URL, the dev stack's
 * stack.json), else the catalog; `--from` forces either, and a forced flusher that is not there is
 * a usage error.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetSource, sourceLabel } from '../../cli/status/fleet-read.js';

const empty = mkdtempSync(join(tmpdir(), 'fleet-source-'));
const withStack = mkdtempSync(join(tmpdir(), 'fleet-source-stack-'));
mkdirSync(join(withStack, '.dev'));
writeFileSync(
  join(withStack, '.dev', 'stack.json'),
  JSON.stringify({ workerUrl: 'http://127.0.0.1:8787', adminToken: 't', flusherUrl: 'http://127.0.0.1:8788' }),
);

describe('fleetSource', () => {
  it('flag, then FLUSHER_URL (its first replica), then the dev stack, else the catalog', () => {
    expect(fleetSource({ flusherUrl: 'http://f:1/' }, { FLUSHER_URL: 'http://env:2' }, withStack)).toEqual({ kind: 'flusher', url: 'http://f:1' });
    expect(fleetSource({}, { FLUSHER_URL: 'http://a:1, http://b:2' }, withStack)).toEqual({ kind: 'flusher', url: 'http://a:1' });
    expect(fleetSource({}, {}, withStack)).toEqual({ kind: 'flusher', url: 'http://127.0.0.1:8788' });
    expect(fleetSource({}, {}, empty)).toEqual({ kind: 'catalog' });
  });

  it('--from catalog wins over a configured flusher; --from flusher without one is a usage error', () => {
    expect(fleetSource({ from: 'catalog', flusherUrl: 'http://f:1' }, {}, withStack)).toEqual({ kind: 'catalog' });
    expect(() => fleetSource({ from: 'flusher' }, {}, empty)).toThrow('--from flusher: no flusher configured');
    expect(() => fleetSource({ flusherUrl: 'ftp://x' }, {}, empty)).toThrow('--flusher-url: must be an http(s) URL');
  });

  it('names the source without credentials', () => {
    expect(sourceLabel({ kind: 'flusher', url: 'https://user:secret@flusher.example:8788' })).not.toContain('secret');
    expect(sourceLabel({ kind: 'catalog' })).toBe('catalog isolate_snapshots');
  });
});
