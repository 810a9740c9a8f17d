/**
 * Asks the `RATE_LIMITER` Durable Object of a window whether one more request fits. Thin I/O:
 * the answer is the object's verdict, or null when it could not be had (binding missing, object
 * unreachable, slow past LIMITER_TIMEOUT_MS) — the caller then lets the request through.
 */
import { z } from 'zod';
import type { AppliedLimit } from './limit.js';
import type { Verdict } from './window.js';

/** The parts of a Durable Object namespace used here (workers-types are not in the worker's build types). */
type LimiterNamespace = {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
};

/** A limiter slower than this is treated as unavailable: the request is not held up for it. */
const LIMITER_TIMEOUT_MS = 1000;

const verdictSchema = z.object({ allowed: z.boolean(), remaining: z.number().int().nonnegative(), resetMs: z.number().nonnegative() });

export type LimiterAnswer = { ok: true; verdict: Verdict } | { ok: false; reason: 'no_binding' | 'failed' };

function namespaceOf(env: unknown): LimiterNamespace | undefined {
  const ns = (env as Record<string, unknown> | undefined)?.['RATE_LIMITER'];
  return typeof ns === 'object' && ns !== null && 'idFromName' in ns && 'get' in ns ? (ns as LimiterNamespace) : undefined;
}

/** Counts one request in `limit`'s window. */
export async function hitLimiter(env: unknown, limit: AppliedLimit): Promise<LimiterAnswer> {
  const ns = namespaceOf(env);
  if (!ns) return { ok: false, reason: 'no_binding' };
  try {
    const stub = ns.get(ns.idFromName(limit.bucket));
    const res = await stub.fetch(`https://rate-limiter/hit?q=${limit.requests}&w=${limit.periodS}`, { method: 'POST', signal: AbortSignal.timeout(LIMITER_TIMEOUT_MS) });
    const parsed = verdictSchema.safeParse(res.ok ? await res.json() : undefined);
    return parsed.success ? { ok: true, verdict: parsed.data } : { ok: false, reason: 'failed' };
  } catch {
    return { ok: false, reason: 'failed' };
  }
}
