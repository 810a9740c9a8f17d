/**
 * `npm run gateway -- <group> <command> [flags]`: manage clients and API keys in the catalog at
 * DATABASE_URL; `npm run gateway -- status` watches a running gateway. Errors go to stderr; exit 1
 * when a command fails, 2 when the command line is wrong.
 */
import { clientsAdd, clientsList, clientsSet } from './commands/clients.js';
import { keysCreate, keysList, keysRevoke, keysSet } from './commands/keys.js';
import type { Command, CommandContext } from './context.js';
import { resolveDatabaseUrl } from './database-url.js';
import { CliError, UsageError } from './errors.js';

const GROUPS: Record<string, Record<string, Command>> = {
  clients: { add: clientsAdd, list: clientsList, set: clientsSet },
  keys: { create: keysCreate, list: keysList, set: keysSet, revoke: keysRevoke },
};

/** Commands without a group, loaded when used: the other commands start without their modules. */
const SINGLE: Record<string, () => Promise<Command>> = {
  status: async () => (await import('./commands/status.js')).status,
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

async function main(argv: string[]): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    console.log(await usage());
    return group === undefined ? 2 : 0;
  }
  const single = Object.hasOwn(SINGLE, group) ? SINGLE[group] : undefined;
  if (single) return runCommand(await single(), name === undefined ? rest : [name, ...rest]);
  // Own keys only: `toString` or `constructor` is not a command group.
  const commands = Object.hasOwn(GROUPS, group) ? GROUPS[group] : undefined;
  if (!commands) throw new UsageError(`unknown command "${group}"`, '--help');
  const command = name === undefined || !Object.hasOwn(commands, name) ? undefined : commands[name];
  if (!command) {
    if (name === undefined || name === '--help' || name === '-h') {
      console.log(await usage());
      return name === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${group} ${name}" (one of: ${Object.keys(commands).join(', ')})`, '--help');
  }
  return runCommand(command, rest);
}

async function runCommand(command: Command, argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  const ctx: CommandContext = {
    // Loaded on demand: usage errors and --help answer without loading the database driver.
    openCatalog: async () => (await import('./catalog.js')).openCatalog(resolveDatabaseUrl(process.env, process.cwd()).url),
    print: (text) => console.log(text),
  };
  await command.run(argv, ctx);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}`);
    if (err.helpCommand) console.error(`see: npm run gateway -- ${err.helpCommand}`);
    process.exitCode = 2;
  } else if (err instanceof CliError) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  } else {
    // Unexpected (e.g. a missing catalog table): say what failed without dumping connection details.
    const message = err instanceof Error ? err.message : String(err);
    console.error(`error: ${message.replace(/postgres(ql)?:\/\/[^\s]+/g, '[database url]')}`);
    if (/relation .* does not exist/.test(message)) console.error('hint: the catalog is not migrated; run: npm run db:migrate');
    process.exitCode = 1;
  }
}
