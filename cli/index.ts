/**
 * `npm run gateway -- <group> <command> [flags]`: manage clients and API keys in the catalog at
 * DATABASE_URL; `npm run gateway -- status` watches a running gateway. Errors go to stderr; exit 1
 * when a command fails, 2 when the command line is wrong. The commands themselves: cli/run.ts.
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
