/** What a CLI command gets from `runCli`: the catalog (opened lazily), stdout, its environment and working directory. */
import type { CatalogHandle, CatalogDb } from '../catalog/open.js';

export type CommandContext = {
  /** Opens the catalog named by DATABASE_URL; only commands that need it call this. */
  openCatalog(): Promise<CatalogHandle>;
  print(text: string): void;
  /** The environment to read settings from (KEY_SIGNING_SECRETS…): the process's, or a test's. */
  env: NodeJS.ProcessEnv;
  /** Where `.dev/stack.json` and `.dev.vars` are looked for. */
  cwd: string;
};

/** A command: `argv` is everything after its name (e.g. after `clients add`). */
export type Command = { summary: string; help: string; run(argv: string[], ctx: CommandContext): Promise<void> };

/** Runs `fn` with an open catalog and always closes it. */
export async function withCatalog<T>(ctx: CommandContext, fn: (db: CatalogDb) => Promise<T>): Promise<T> {
  const catalog = await ctx.openCatalog();
  try {
    return await fn(catalog.db);
  } finally {
    await catalog.close();
  }
}
