/**
 * Flag parsing (node:util parseArgs, strict) and validation (zod) for CLI commands. Every problem
 * becomes a UsageError that names the flag and points at the command's --help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { postgresUrlVar } from '../drizzle/env-vars.js';
import { parseRateLimit, type RateLimit } from '../worker/ratelimit/limit.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Parses `argv` against `options`; unknown flags and missing values are usage errors. */
export function parseFlags(argv: string[], options: Options, helpCommand: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    const flat: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(values)) flat[k] = Array.isArray(v) ? v.join(',') : v;
    return { values: flat, positionals };
  } catch (err) {
    // parseArgs messages are already specific ("Unknown option '--x'"); keep the first sentence.
    const message = err instanceof Error ? err.message.split('. ')[0] ?? err.message : String(err);
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option'), helpCommand);
  }
}

/** Validates parsed input with `schema`; the first issue becomes a usage error naming its flag. */
export function validate<T extends z.ZodType>(schema: T, input: unknown, helpCommand: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  const flag = field === 'positionals' || /^\d/.test(field) || field === '' ? '' : `--${kebab(field)}: `;
  const missing = issue?.code === 'invalid_type' && /received undefined/.test(issue.message);
  throw new UsageError(`${flag}${missing ? 'is required' : (issue?.message ?? 'invalid input')}`, helpCommand);
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

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
