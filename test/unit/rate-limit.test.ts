/**
 * The pure parts of rate limiting: the operator's text form, which limit applies (key over
 * client), the fixed window with an injected clock, and the IETF-draft headers.
 */
import { describe, expect, it } from 'vitest';
import { applicableLimit, formatRateLimit, parseRateLimit, rateLimitOf } from '../../worker/ratelimit/limit.js';
import { hitWindow, type WindowState } from '../../worker/ratelimit/window.js';
import { rateLimitHeaders } from '../../worker/ratelimit/headers.js';

describe('rate limit text', () => {
  it('parses <requests>/<period> with s or m, 1 s to 60 s', () => {
    expect(parseRateLimit('100/10s')).toEqual({ ok: true, limit: { requests: 100, periodS: 10 } });
    expect(parseRateLimit(' 600/1m ')).toEqual({ ok: true, limit: { requests: 600, periodS: 60 } });
    expect(parseRateLimit('5/s')).toEqual({ ok: true, limit: { requests: 5, periodS: 1 } });
    expect(parseRateLimit('0/10s')).toEqual({ ok: true, limit: { requests: 0, periodS: 10 } });
    for (const bad of ['100', '100/10', '100/10h', '-1/10s', '1.5/10s', 'ten/10s', '', '100/ 10s']) expect(parseRateLimit(bad).ok).toBe(false);
    for (const bad of ['10/0s', '10/61s', '10/2m']) expect(parseRateLimit(bad)).toEqual({ ok: false, problem: 'the period must be 1s to 60s' });
    expect(parseRateLimit('9999999999/10s').ok).toBe(false);
    expect(formatRateLimit({ requests: 600, periodS: 60 })).toBe('600/60s');
    expect(formatRateLimit(null)).toBe('none');
  });

  it("reads the two columns as a limit only when both are set; a key's own limit wins over its client's", () => {
    expect(rateLimitOf(5, 10)).toEqual({ requests: 5, periodS: 10 });
    expect(rateLimitOf(null, 10)).toBeNull();
    expect(rateLimitOf(5, undefined)).toBeNull();
    const client = { clientName: 'acme', rateLimit: { requests: 100, periodS: 60 } };
    expect(applicableLimit({ id: 'k1', rateLimit: { requests: 5, periodS: 10 } }, client)).toEqual({
      requests: 5,
      periodS: 10,
      scope: 'key',
      bucket: 'key:k1',
    });
    expect(applicableLimit({ id: 'k1', rateLimit: null }, client)).toEqual({ requests: 100, periodS: 60, scope: 'client', bucket: 'client:acme' });
    expect(applicableLimit(undefined, client)).toMatchObject({ scope: 'client' });
    expect(applicableLimit({ id: 'k1', rateLimit: null }, { clientName: 'acme', rateLimit: null })).toBeUndefined();
  });
});

describe('fixed window', () => {
  it('allows `requests` per window, refuses the rest without counting them, and opens a new window after the period', () => {
    let state: WindowState | undefined;
    const hit = (now: number) => {
      const r = hitWindow(state, now, 3, 10_000);
      state = r.state;
      return r.verdict;
    };
    expect(hit(1000)).toEqual({ allowed: true, remaining: 2, resetMs: 10_000 });
    expect(hit(2000)).toEqual({ allowed: true, remaining: 1, resetMs: 9000 });
    expect(hit(3000)).toEqual({ allowed: true, remaining: 0, resetMs: 8000 });
    expect(hit(4000)).toEqual({ allowed: false, remaining: 0, resetMs: 7000 });
    expect(hit(10_999)).toEqual({ allowed: false, remaining: 0, resetMs: 1 });
    expect(state?.count).toBe(3);
    expect(hit(11_000)).toEqual({ allowed: true, remaining: 2, resetMs: 10_000 });
  });

  it('a clock that went backwards starts a new window instead of a negative reset', () => {
    const first = hitWindow(undefined, 5000, 1, 1000);
    expect(hitWindow(first.state, 4000, 1, 1000).verdict).toEqual({ allowed: true, remaining: 0, resetMs: 1000 });
  });
});

describe('headers', () => {
  it('RateLimit-Policy names whose limit, quota and window; RateLimit the remaining and seconds to reset (rounded up)', () => {
    const limit = { requests: 100, periodS: 10, scope: 'key' as const, bucket: 'key:k' };
    expect(rateLimitHeaders(limit, { allowed: true, remaining: 42, resetMs: 6001 })).toEqual({
      'ratelimit-policy': '"key";q=100;w=10',
      ratelimit: '"key";r=42;t=7',
    });
    expect(rateLimitHeaders({ ...limit, scope: 'client' }, { allowed: false, remaining: 0, resetMs: 0 })).toEqual({
      'ratelimit-policy': '"client";q=100;w=10',
      ratelimit: '"client";r=0;t=0',
    });
  });
});
