/**
 * SQL statements and the fragments they are composed of. A fragment is SQL text with the values it
 * binds kept in place; fragments nest, and a statement's placeholders are numbered once, in text
 * order, when it is rendered — so its pieces may be built in any order, and no builder counts
 * placeholders by hand.
 */

/** One SQL statement with bound parameters ($1, $2, …): what every SQL builder here returns. */
export type Statement = { text: string; params: unknown[] };

/**
 * A value bound where it stands: `$n` when rendered, followed by its cast (`::type`) if any. A
 * shared one is bound once however often its fragment appears in the statement.
 */
class Bound {
  constructor(
    readonly value: unknown,
    readonly cast: string,
    readonly shared = false,
  ) {}
}

type Chunk = string | Bound | Fragment;

/** SQL text with its bound values in place (see `sql`, `param`, `raw`, `join`, `render`). */
export class Fragment {
  constructor(readonly chunks: readonly Chunk[]) {}
}

/** Text that is SQL as it stands: only catalog names (quoted), keywords and fixed expressions. */
/** `"a""b"`: double quotes doubled, so any catalog name is one identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export const raw = (text: string): Fragment => new Fragment([text]);

/** One bound value, as `$n` (`$n::cast` with a cast). */
export const param = (value: unknown, cast?: string): Fragment => new Fragment([new Bound(value, cast ? `::${cast}` : '')]);

/** One value bound once, referenced as the same `$n` wherever the fragment appears in the statement. */
export const sharedParam = (value: unknown, cast?: string): Fragment => new Fragment([new Bound(value, cast ? `::${cast}` : '', true)]);

export const EMPTY = raw('');

/**
 * A template of SQL text: every interpolated `Fragment` is embedded, every other value is bound
 * as a parameter (never spliced into the text).
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Fragment {
  const chunks: Chunk[] = [];
  strings.forEach((s, i) => {
    if (s !== '') chunks.push(s);
    if (i < values.length) chunks.push(values[i] instanceof Fragment ? (values[i] as Fragment) : new Bound(values[i], ''));
  });
  return new Fragment(chunks);
}

/** The fragments one after another, `separator` (SQL text) between them. */
export function join(parts: readonly Fragment[], separator: string): Fragment {
  const chunks: Chunk[] = [];
  parts.forEach((p, i) => {
    if (i > 0) chunks.push(separator);
    chunks.push(p);
  });
  return new Fragment(chunks);
}

/** The statement: text with its placeholders numbered from `$1` in text order, and the values they bind. */
export function render(fragment: Fragment): Statement {
  const params: unknown[] = [];
  return { text: write(fragment, params, new Map()), params };
}

function write(fragment: Fragment, params: unknown[], shared: Map<Bound, number>): string {
  let text = '';
  for (const c of fragment.chunks) {
    if (typeof c === 'string') text += c;
    else if (c instanceof Bound) text += `$${placeholder(c, params, shared)}${c.cast}`;
    else text += write(c, params, shared);
  }
  return text;
}

function placeholder(b: Bound, params: unknown[], shared: Map<Bound, number>): number {
  if (!b.shared) return params.push(b.value);
  let n = shared.get(b);
  if (n === undefined) shared.set(b, (n = params.push(b.value)));
  return n;
}
