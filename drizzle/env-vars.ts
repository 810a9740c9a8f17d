/**
 * Integer, list and Postgres-URL env vars as zod schemas, shared by the worker's, the flusher's and
 * the dev stack's config parsers.
 * Unset or empty → the default; anything else must be an integer in [min, max].
 */
import { z } from 'zod';

/**
 * A var read by `parse` (its text trimmed): unset or empty → `def`; a `{ problem }` is the issue's
 * message, which never echoes the value.
 */
export const parsedVar = <T>(def: T, parse: (text: string) => T | { problem: string }) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const parsed = parse(v);
      if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      }
      return parsed as T;
    });

export const intVar = (def: number, min: number, max: number, what = `an integer between ${min} and ${max}`) =>
  parsedVar(def, (v) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : { problem: `must be ${what}` };
  });

/**
 * A comma-separated list var (`old,new` while a secret or URL rotates): entries trimmed, empties
 * dropped, each checked by `entry`. Unset or empty → undefined. Issues never echo a value.
 */
export const listVar = (entry: z.ZodType<string>, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const items = (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (items.length === 0) return undefined;
      if (!items.every((s) => entry.safeParse(s).success)) {
        ctx.addIssue({ code: 'custom', message: `must be ${what}` });
        return z.NEVER;
      }
      return items;
    });

/** A postgres:// (or postgresql://) connection URL with a host; the message never echoes the value. */
export const postgresUrlVar = (base: z.ZodString = z.string()) =>
  base.trim().refine((v) => /^postgres(ql)?:\/\/[^/]+/.test(v) && URL.canParse(v), 'must be a postgres:// connection URL');
