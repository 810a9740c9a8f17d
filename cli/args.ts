/**
 * The schemas of flag values several commands share (client names, booleans, rate limits), and the
 * rule that combines --rate-limit with --block. The flags themselves: each command's table (flags.ts).
 */
import { z } from 'zod';
import { UsageError } from './errors.js';
import { postgresUrlVar } from '../drizzle/env-vars.js';
import { parseRateLimit, type RateLimit } from '../worker/ratelimit/limit.js';

/** `true`/`false` (also yes/no, 1/0) as a flag value. */
export const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', 'yes', 'no', '1', '0'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === 'yes' || v === '1');

/** The client-name rule the catalog enforces (clients_client_name_check). */
export const clientName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'client names are 1-63 characters: letters, digits, _ . - (not starting with _ . -)');

/** A postgres:// connection URL. */
export const postgresUrl = postgresUrlVar();

/** `required`, `optional`, or `default` (null: follow API_KEY_ENFORCEMENT_DEFAULT). */
export const enforcement = z
  .enum(['required', 'optional', 'default'], { error: 'must be required, optional or default' })
  .transform((v) => (v === 'default' ? null : v));

/** `--rate-limit <requests>/<period>` (e.g. 100/10s, 600/1m) or `none` (null: no limit). */
export const rateLimitText = z.string().transform((v, ctx): RateLimit | null => {
  if (v.trim() === 'none') return null;
  const parsed = parseRateLimit(v);
  if (parsed.ok) return parsed.limit;
  ctx.addIssue({ code: 'custom', message: parsed.problem });
  return z.NEVER;
});

/** The period a bare `--block` stores (what Retry-After then says). */
const BLOCK_PERIOD_S = 60;

/**
 * The limit `--rate-limit` and `--block` ask for (undefined: neither given). A limit of 0 blocks
 * every request, so it needs `--block`; `--block` alone stores 0/60s.
 */
export function chosenRateLimit(rateLimit: RateLimit | null | undefined, block: boolean | undefined, helpCommand: string): RateLimit | null | undefined {
  if (block) {
    if (rateLimit && rateLimit.requests !== 0) throw new UsageError('--block: cannot be combined with a non-zero --rate-limit', helpCommand);
    if (rateLimit === null) throw new UsageError('--block: cannot be combined with --rate-limit none', helpCommand);
    return rateLimit ?? { requests: 0, periodS: BLOCK_PERIOD_S };
  }
  if (rateLimit?.requests === 0) throw new UsageError('--rate-limit: a limit of 0 refuses every request; add --block to confirm', helpCommand);
  return rateLimit;
}
