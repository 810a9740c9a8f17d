/**
 * The CLI as a function: argv in, exit code out; its output streams, environment, working
 * directory and catalog are passed in. `cli/index.ts` runs it on the process's own; tests run it
 * in-process on theirs (no Node + tsx start per command) and assert the same output and codes.
 */
import { clientsAdd, clientsList, clientsSet } from './commands/clients.js';
import { keysCreate, keysList, keysRevoke, keysSet } from './commands/keys.js';
import type { CatalogHandle } from '../catalog/open.js';
import type { Command, CommandContext } from './context.js';
import { resolveDatabaseUrl } from './database-url.js';
import { CatalogError } from '../catalog/errors.js';
import { CliError, UsageError } from './errors.js';
import { wantsHelp } from './flags.js';

/** Where a run writes and what it reads. */
export type CliIo = {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Opens the catalog; by default the one DATABASE_URL (or the running dev stack) names. */
  openCatalog?: () => Promise<CatalogHandle>;
};

const GROUPS: Record<string, Record<string, Command>> = {
  clients: { add: clientsAdd, list: clientsList, set: clientsSet },
  keys: { create: keysCreate, list: keysList, set: keysSet, revoke: keysRevoke },
};

/** Commands without a group, loaded when used: the other commands start without their modules. */
const SINGLE: Record<string, () => Promise<Command>> = {
  status: async () => (await import('./commands/status.js')).status,
  '--version': async () => (await import('./commands/version.js')).version,
};

async function usage(): Promise<string> {
  const lines = ['Usage: npm run gateway -- <command> [flags]', '', 'Commands:'];
  for (const [group, commands] of Object.entries(GROUPS)) {
    for (const [name, cmd] of Object.entries(commands)) lines.push(`  ${`${group} ${name}`.padEnd(16)} ${cmd.summary}`);
  }
  for (const [name, load] of Object.entries(SINGLE)) lines.push(`  ${name.padEnd(16)} ${(await load()).summary}`);
  lines.push('', 'Each command has --help. The catalog is DATABASE_URL (default: the running `npm run dev` stack).');
  lines.push('Schema migrations: npm run db:migrate');
  return lines.join('\n');
}

async function dispatch(argv: string[], ctx: CommandContext): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    ctx.print(await usage());
    return group === undefined ? 2 : 0;
  }
  const single = Object.hasOwn(SINGLE, group) ? SINGLE[group] : undefined;
  if (single) return runCommand(await single(), name === undefined ? rest : [name, ...rest], ctx);
  // Own keys only: `toString` or `constructor` is not a command group.
  const commands = Object.hasOwn(GROUPS, group) ? GROUPS[group] : undefined;
  if (!commands) throw new UsageError(`unknown command "${group}"`, '--help');
  const command = name === undefined || !Object.hasOwn(commands, name) ? undefined : commands[name];
  if (!command) {
    if (name === undefined || name === '--help' || name === '-h') {
      ctx.print(await usage());
      return name === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${group} ${name}" (one of: ${Object.keys(commands).join(', ')})`, '--help');
  }
  return runCommand(command, rest, ctx);
}

async function runCommand(command: Command, argv: string[], ctx: CommandContext): Promise<number> {
  if (wantsHelp(argv)) {
    ctx.print(command.help);
    return 0;
  }
  await command.run(argv, ctx);
  return 0;
}

/** What a failed run prints to stderr, and its exit code: 2 for usage, 1 for anything else. */
function failure(err: unknown): { lines: string[]; code: number } {
  if (err instanceof UsageError)
    return { lines: [`error: ${err.message}`, ...(err.helpCommand ? [`see: npm run gateway -- ${err.helpCommand}`] : [])], code: 2 };
  if (err instanceof CliError || err instanceof CatalogError) return { lines: [`error: ${err.message}`], code: 1 };
  // Unexpected (e.g. a missing catalog table): say what failed without dumping connection details.
  const message = err instanceof Error ? err.message : String(err);
  const lines = [`error: ${message.replace(/postgres(ql)?:\/\/[^\s]+/g, '[database url]')}`];
  if (/relation .* does not exist/.test(message)) lines.push('hint: the catalog is not migrated; run: npm run db:migrate');
  return { lines, code: 1 };
}

/** Runs `npm run gateway -- <argv>` and resolves with its exit code; never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const ctx: CommandContext = {
    // Loaded on demand: usage errors and --help answer without loading the database driver.
    openCatalog: io.openCatalog ?? (async () => (await import('../catalog/open.js')).openCatalog(resolveDatabaseUrl(io.env, io.cwd).url)),
    print: (text) => io.stdout.write(`${text}\n`),
    env: io.env,
    cwd: io.cwd,
  };
  try {
    return await dispatch(argv, ctx);
  } catch (err) {
    const { lines, code } = failure(err);
    for (const line of lines) io.stderr.write(`${line}\n`);
    return code;
  }
}
