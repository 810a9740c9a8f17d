/**
 * Which database errors are about a batch's data rather than the database being reachable: SQLSTATE
 * class 22 (data exception, e.g. a counter overflowing bigint) and 23 (integrity violation). A batch
 * failing so alone can never succeed, so its writers drop it (counted) instead of retrying it forever.
 * Shared by the flusher's group commit and the worker's direct sink.
 */

/** The SQLSTATE of a data error, else undefined (connection, timeout, privilege: retryable). */
export function dataErrorState(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) ? code : undefined;
}
