/**
 * The CLI's two failure kinds: a usage error (bad command, flag or value; exit 2) and a runtime
 * error (unknown client, duplicate name, unreachable database; exit 1). Messages never contain
 * secrets: connection URLs are redacted before they get here.
 */

/** The command line itself is wrong; the caller prints usage hints. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** Help text to point at, e.g. `npm run gateway -- keys create --help`. */
    readonly helpCommand?: string,
  ) {
    super(message);
  }
}

/** The command was well-formed but could not be carried out. Exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
