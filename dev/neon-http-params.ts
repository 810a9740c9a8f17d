/**
 * Statement parameters of Neon's HTTP SQL endpoint: JSON values turned into the Postgres text the
 * statement receives, as Neon's endpoint turns them. The driver sends strings and nulls only
 * (it prepares values itself); the other JSON kinds are what a hand-written request may send. Pure.
 */

/** null stays null; a string passes as it is; booleans, numbers and objects as their JSON; an array as a Postgres array literal. */
export function toPgText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return arrayLiteral(v);
  return JSON.stringify(v);
}

/** Elements quoted as JSON strings (Neon's escaping), nested arrays as nested braces, null as NULL. */
function arrayLiteral(items: unknown[]): string {
  const item = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    if (typeof v === 'object') return JSON.stringify(JSON.stringify(v));
    return JSON.stringify(v);
  };
  return `{${items.map(item).join(',')}}`;
}
