/**
 * A table (or function) as a (schema, name) pair. A name the client writes is split once, at its
 * first dot (`users` → public.users, `app.b.c` → app."b.c"); from then on scopes, the catalog and
 * embeds compare the two parts, never a string joined with a dot and split again, so a schema
 * named `"app.b"` is never taken for schema `app`.
 */
export type TableRef = { readonly schema: string; readonly name: string };

/** The pair a written name means: `schema.name`, or a bare name in `public`. */
export function tableRef(written: string): TableRef {
  const dot = written.indexOf('.');
  return dot >= 0 ? { schema: written.slice(0, dot), name: written.slice(dot + 1) } : { schema: 'public', name: written };
}
