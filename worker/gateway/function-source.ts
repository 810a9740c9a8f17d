/**
 * Loads the overloads of one function of a tenant database through the request's session: its
 * parameters, modes, defaults, result type and columns, and whether an extension owns it.
 */
import type { Session } from '../db/session.js';
import type { FunctionRow } from './functions.js';

const FUNCTION_SQL = `
SELECT n.nspname AS schema_name, p.proname AS name, p.prokind::text AS kind, p.proretset AS returns_set, p.provolatile::text AS volatility,
       format_type(p.prorettype, NULL) AS return_type, t.typtype::text AS return_typtype,
       p.pronargdefaults::int AS nargdefaults,
       EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') AS from_extension,
       coalesce(p.proargnames, ARRAY[]::text[]) AS arg_names,
       coalesce(p.proargmodes::text[], ARRAY[]::text[]) AS arg_modes,
       ARRAY(SELECT format_type(u.x, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(x, i) ORDER BY u.i) AS arg_types,
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS composite_columns,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS composite_types
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_type t ON t.oid = p.prorettype
WHERE n.nspname = $1 AND p.proname = $2
LIMIT 64`;

/** Every overload of `schema.name` (none when it does not exist). */
export async function loadFunction(session: Session, schema: string, name: string): Promise<FunctionRow[]> {
  return (await session.query<FunctionRow>(FUNCTION_SQL, [schema, name])).rows;
}
