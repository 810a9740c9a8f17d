/**
 * `npm run db:migrate`: apply the catalog migrations to DATABASE_URL, or else to the running dev
 * stack's catalog (`.dev/stack.json`), like every `npm run gateway` command.
 */
import { migrateCatalog } from '../drizzle/migrate.js';
import { redactUrl } from '../catalog/redact.js';
import { resolveDatabaseUrl } from './database-url.js';
import { CliError } from './errors.js';

let target: { url: string; source: string };
try {
  target = resolveDatabaseUrl(process.env, process.cwd());
} catch (err) {
  console.error(`error: ${err instanceof CliError ? err.message : String(err)}`);
  process.exit(2);
}
try {
  await migrateCatalog(target.url);
  console.log(`migrations applied to ${redactUrl(target.url)} (from ${target.source})`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // Same guard as the CLI: a driver message must never carry the connection string.
  console.error(`error: migration failed: ${message.replace(/postgres(ql)?:\/\/[^\s]+/g, '[database url]')}`);
  process.exit(1);
}
