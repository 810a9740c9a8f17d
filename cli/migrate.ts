/** `npm run db:migrate`: apply the catalog migrations to DATABASE_URL. */
import { migrateCatalog } from '../drizzle/migrate.js';
import { redactUrl } from '../dev/redact.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('error: DATABASE_URL is not set (the catalog database to migrate)');
  process.exit(2);
}
try {
  await migrateCatalog(url);
  console.log(`migrations applied to ${redactUrl(url)}`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // Same guard as the CLI: a driver message must never carry the connection string.
  console.error(`error: migration failed: ${message.replace(/postgres(ql)?:\/\/[^\s]+/g, '[database url]')}`);
  process.exit(1);
}
