/** What a CLI command gets from the entry point: the catalog (opened lazily) and stdout. */
import type { CatalogHandle, CatalogDb } from './catalog.js';

export type CommandContext = {
  /** Opens the catalog named by DATABASE_URL; only commands that need it call this. */
  openCatalog(): Promise<CatalogHandle>;
  print(text: string): void;
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
