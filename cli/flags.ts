/**
 * Each command's flags, declared once: a table of flag name → value placeholder, help line and zod
 * schema. Help text, node:util parseArgs options (strict) and the validated, typed values all come
 * from it, for `npm run gateway`, `npm run preflight` and `npm run bench` alike. Every problem
 * becomes a UsageError that names the flag and points at the command's --help.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from './errors.js';

/** One flag: `value` names its argument in help (a boolean flag has none). */
export type Flag<S extends z.ZodType = z.ZodType> = { value?: string; short?: string; help: string; schema: S };
export type FlagTable = Record<string, Flag>;

/** A flag that takes a value, e.g. `--client <name>`; `help` may hold further lines after `\n`. */
export const valueFlag = <S extends z.ZodType>(value: string, help: string, schema: S, short?: string): Flag<S> => ({
  value,
  help,
  schema,
  ...(short ? { short } : {}),
});

/** A flag that is present or not, e.g. `--json`; absent is false. */
export const switchFlag = (help: string, short?: string): Flag<z.ZodDefault<z.ZodBoolean>> => ({
  help,
  schema: z.boolean().default(false),
  ...(short ? { short } : {}),
});

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** What a command's flags validate to: kebab names as camelCase keys, with their schemas' types. */
export type FlagValues<T extends FlagTable> = { [K in keyof T & string as Camel<K>]: z.output<T[K]['schema']> };

export type Spec<T extends FlagTable, P extends z.ZodType> = {
  /** What `see: …` points at, e.g. `keys create --help`. */
  helpCommand: string;
  flags: T;
  /** The positional arguments' schema (an array of strings in, anything out). */
  positionals: P;
};

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--help` or `-h` anywhere on the line: the command prints its help and does nothing else. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');

/** Parses and validates `argv` against `spec`; unknown flags, missing values and bad values are usage errors. */
export function parseCommand<T extends FlagTable, P extends z.ZodType>(argv: string[], spec: Spec<T, P>): FlagValues<T> & { positionals: z.output<P> } {
  const options = Object.fromEntries(
    Object.entries(spec.flags).map(([name, f]) => [
      name,
      { type: f.value === undefined ? 'boolean' : 'string', ...(f.short ? { short: f.short } : {}) } as const,
    ]),
  );
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs messages are already specific ("Unknown option '--x'"); keep the first sentence.
    const message = err instanceof Error ? (err.message.split('. ')[0] ?? err.message) : String(err);
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option'), spec.helpCommand);
  }
  const shape = Object.fromEntries([['positionals', spec.positionals], ...Object.entries(spec.flags).map(([name, f]) => [camel(name), f.schema])]);
  const input = Object.fromEntries([['positionals', parsed.positionals], ...Object.keys(spec.flags).map((name) => [camel(name), parsed.values[name]])]);
  return validate(z.object(shape), input, spec.helpCommand) as FlagValues<T> & { positionals: z.output<P> };
}

/** Validates `input` with `schema`; the first issue becomes a usage error naming its flag. */
function validate<S extends z.ZodType>(schema: S, input: unknown, helpCommand: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String)[0] ?? '';
  const flag = field === 'positionals' || field === '' ? '' : `--${kebab(field)}: `;
  const missing = issue?.code === 'invalid_type' && /received undefined/.test(issue.message);
  throw new UsageError(`${flag}${missing ? 'is required' : (issue?.message ?? 'invalid input')}`, helpCommand);
}

/** The flag list of a help text: one `--name <value>  help` line each, later help lines indented under the first. */
function flagHelp(flags: FlagTable): string {
  const heads = Object.entries(flags).map(([name, f]) => `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.value ? ` ${f.value}` : ''}`);
  const column = Math.min(Math.max(...heads.map((h) => h.length)) + 2, 32);
  return Object.values(flags)
    .map((f, i) => {
      const head = heads[i] ?? '';
      const [first, ...rest] = f.help.split('\n');
      const lead = head.length + 1 > column ? `${head}\n${' '.repeat(column)}` : head.padEnd(column);
      return [`${lead}${first ?? ''}`, ...rest.map((l) => `${' '.repeat(column)}${l}`)].join('\n');
    })
    .join('\n');
}

/** A command's whole help: usage line, what it does, its flags (from the table), then any notes. */
export function helpText(h: { usage: string; about: string; flags: FlagTable; notes?: string }): string {
  return [`Usage: ${h.usage}`, h.about, `Flags:\n${flagHelp(h.flags)}`, ...(h.notes ? [h.notes] : [])].join('\n\n');
}

/** A whole number of at least `min` (default `def` when the flag is absent). */
export const wholeNumber = (def: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);

/**
 * A script's own command line (`npm run preflight`, `npm run bench`, the bench's tools): its values,
 * or the exit code when the run ends here — `--help` printed (0), or a usage error printed with
 * the usage line (2).
 */
export function scriptArgs<T extends FlagTable, P extends z.ZodType>(
  argv: string[],
  spec: Spec<T, P>,
  help: string,
): (FlagValues<T> & { positionals: z.output<P> }) | number {
  if (wantsHelp(argv)) {
    console.log(help);
    return 0;
  }
  try {
    return parseCommand(argv, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n${(help.split('\n')[0] ?? '').replace(/^Usage:/, 'usage:')}`);
    return 2;
  }
}
