/**
 * A catalog operation that was well formed but cannot be carried out: an unknown client, a
 * duplicate key name, an unreachable database. The CLI prints its message and exits 1; the dev
 * stack's seed reads it as "not there yet". Messages never contain secrets: connection URLs are
 * redacted before they get here.
 */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}
