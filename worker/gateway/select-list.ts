/**
 * Select lists as the SDK sends them — `columns`/`select` strings (`id, num:n, n::text,
 * owner:app.users!owner_id(name)`), arrays of tokens, and `select` objects (`{id: true, owner:
 * {select: {name: true}, schema: "app"}}`) — split into plain column tokens (checked later by
 * plan-columns.ts) and one-level embeds (resolved against foreign keys by embed.ts). Pure: no catalog.
 */
import { isCastName, type CastName } from './filter.js';
import { fail, ok, type Result } from './result.js';
import { splitTopLevel as splitFilterList } from './postgrest.js';
import { clipped } from './clip.js';
import { RESERVED_NAME_MESSAGE, isReservedName } from './reserved-names.js';

/** An embedded relation as written: `key` names it in the response. */
export type EmbedSpec = {
  key: string;
  /** As written, for messages: `table`, `schema.table`, or a foreign-key column of the base table. */
  path: string;
  /** The same as parts, never re-split: `schema` only when the client qualified the name. */
  target: { schema?: string; name: string };
  /** `!hint`: a foreign-key constraint name or column that picks one of several foreign keys. */
  hint?: string;
  /** The embedded table's column tokens (`*`, `col`, `alias:col`, `col::cast`). */
  columns: string[];
};

export type SelectList = { columns: string[]; embeds: EmbedSpec[] };

/** One parsed column token: `[alias:]column[::cast]` or `column as alias`. */
export type ColumnToken = { column: string; alias?: string; cast?: CastName };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ITEMS = 200;
const shown = (s: string) => clipped(s, 64);
const reserved = (field: string, name: string) => fail('invalid_request', `${field}: "${name}" ${RESERVED_NAME_MESSAGE}`, 'Pick another alias (alias:column).');

/** Top-level comma split (quotes and parentheses respected), empty entries dropped. */
function splitTopLevel(input: string, field: string): Result<string[]> {
  const parts = splitFilterList(input);
  if (!parts.ok) return fail('invalid_request', `${field}: ${parts.error.message.replace(' in filter string', '')}`);
  return ok(parts.value.map((p) => p.trim()).filter((p) => p !== ''));
}

/** `[alias:]path[!hint](inner)` → an embed; inner embeds are refused (one level only). */
function parseEmbedToken(token: string, field: string): Result<EmbedSpec> {
  const open = token.indexOf('(');
  if (!token.endsWith(')')) return fail('invalid_request', `${field}: "${shown(token)}" is not a valid embedded select`, 'Write alias:schema.table(col, …).');
  const head = token.slice(0, open).trim();
  const colon = head.indexOf(':');
  const alias = colon >= 0 ? head.slice(0, colon).trim() : undefined;
  const rest = colon >= 0 ? head.slice(colon + 1).trim() : head;
  const [path = '', hint, ...extra] = rest.split('!').map((s) => s.trim());
  const segments = path.split('.');
  const valid =
    extra.length === 0 &&
    segments.length <= 2 &&
    segments.every((s) => IDENT.test(s)) &&
    (alias === undefined || IDENT.test(alias)) &&
    (hint === undefined || IDENT.test(hint));
  if (!valid) {
    return fail(
      'invalid_request',
      `${field}: "${shown(head)}" is not a valid embedded relation`,
      'Write alias:schema.table!fk_name(col, …); names are plain identifiers.',
    );
  }
  const inner = splitTopLevel(token.slice(open + 1, -1), field);
  if (!inner.ok) return inner;
  if (inner.value.some((t) => t.includes('('))) {
    return fail(
      'invalid_request',
      `${field}: "${shown(token)}" embeds more than one level deep`,
      'Embedding is one level deep: fetch the nested relation with a second request.',
    );
  }
  const [first = '', second] = segments;
  const target = second === undefined ? { name: first } : { schema: first, name: second };
  const spec: EmbedSpec = { key: alias ?? target.name, path, target, columns: inner.value.length ? inner.value : ['*'] };
  if (isReservedName(spec.key)) return reserved(field, spec.key);
  return ok(hint === undefined ? spec : { ...spec, hint });
}

function collect(tokens: readonly string[], field: string): Result<SelectList> {
  if (tokens.length > MAX_ITEMS) return fail('invalid_request', `${field}: more than ${MAX_ITEMS} entries`);
  const out: SelectList = { columns: [], embeds: [] };
  for (const token of tokens) {
    if (!token.includes('(')) {
      out.columns.push(token);
      continue;
    }
    const embed = parseEmbedToken(token, field);
    if (!embed.ok) return embed;
    out.embeds.push(embed.value);
  }
  return ok(out);
}

/** `columns`/`select` as a string or an array of tokens. */
export function parseSelectTokens(input: string | readonly string[], field: string): Result<SelectList> {
  if (typeof input !== 'string')
    return collect(
      input.map((t) => t.trim()).filter((t) => t !== ''),
      field,
    );
  const tokens = splitTopLevel(input, field);
  return tokens.ok ? collect(tokens.value, field) : tokens;
}

const RELATION_NODE_KEYS = new Set(['select', 'as', 'via', 'schema', 'where', 'orderBy', 'limit', 'offset']);
const PER_RELATION_MODIFIERS = ['where', 'orderBy', 'limit', 'offset'] as const;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function objectColumns(select: Record<string, unknown>, field: string): Result<string[]> {
  const columns: string[] = [];
  for (const [key, value] of Object.entries(select)) {
    if (value === true) columns.push(key);
    else if (isRecord(value)) {
      return fail(
        'invalid_request',
        `${field}.${shown(key)}: embeds more than one level deep`,
        'Embedding is one level deep: fetch the nested relation with a second request.',
      );
    } else if (value !== false) return fail('invalid_request', `${field}.${shown(key)}: must be true or a relation {select: {…}}`);
  }
  return ok(columns.length ? columns : ['*']);
}

function objectEmbed(key: string, node: Record<string, unknown>, field: string): Result<EmbedSpec> {
  const at = `${field}.${shown(key)}`;
  const unknown = Object.keys(node).find((k) => !RELATION_NODE_KEYS.has(k));
  if (unknown !== undefined) return fail('invalid_request', `${at}: unknown field "${shown(unknown)}"`);
  const modifier = PER_RELATION_MODIFIERS.find((k) => node[k] !== undefined && node[k] !== null);
  if (modifier) {
    return fail(
      'invalid_request',
      `${at}.${modifier}: per-relation ${modifier} is not supported`,
      'Filter, order and page the base table; embedded rows come unfiltered.',
    );
  }
  const names = { as: node.as, via: node.via, schema: node.schema };
  for (const [name, v] of Object.entries(names)) {
    if (v !== undefined && (typeof v !== 'string' || !IDENT.test(v))) return fail('invalid_request', `${at}.${name}: must be a plain identifier`);
  }
  const table = typeof names.via === 'string' ? names.via : key;
  const outputKey = typeof names.as === 'string' ? names.as : key;
  if (isReservedName(outputKey)) return reserved(field, outputKey);
  const columns = objectColumns(node.select as Record<string, unknown>, `${at}.select`);
  if (!columns.ok) return columns;
  const schema = typeof names.schema === 'string' ? names.schema : undefined;
  const path = schema === undefined ? table : `${schema}.${table}`; // shown in messages only
  return ok({ key: outputKey, path, target: schema === undefined ? { name: table } : { schema, name: table }, columns: columns.value });
}

/** `select` as an object: `{col: true, rel: {select: {…}, as?, via?, schema?}}`. */
export function parseSelectObject(select: Record<string, unknown>, field = 'select'): Result<SelectList> {
  const out: SelectList = { columns: [], embeds: [] };
  const entries = Object.entries(select);
  if (entries.length > MAX_ITEMS) return fail('invalid_request', `${field}: more than ${MAX_ITEMS} entries`);
  for (const [key, value] of entries) {
    if (value === true) out.columns.push(key);
    else if (isRecord(value) && isRecord(value.select)) {
      const embed = objectEmbed(key, value, field);
      if (!embed.ok) return embed;
      out.embeds.push(embed.value);
    } else if (value !== false) {
      return fail('invalid_request', `${field}.${shown(key)}: must be true or a relation {select: {…}}`);
    }
  }
  if (out.columns.length === 0 && out.embeds.length === 0) return fail('invalid_request', `${field}: selects nothing`);
  return ok(out);
}

/**
 * `alias:col`, `col::cast`, `alias:col::cast`, `col as alias`; `rel.col` keeps the last segment
 * (the caller checks the prefix names the table). Expressions and unknown casts are refused.
 */
export function parseColumnToken(raw: string, field: string): Result<ColumnToken & { prefix?: string }> {
  let text = raw.trim();
  let cast: CastName | undefined;
  const castAt = text.indexOf('::');
  if (castAt >= 0) {
    const name = text
      .slice(castAt + 2)
      .trim()
      .toLowerCase();
    if (!isCastName(name)) {
      return fail(
        'invalid_request',
        `${field}: cast "${shown(name)}" is not allowed`,
        'Allowed casts are listed in docs/protocol.md (text, integer, uuid, jsonb, …).',
      );
    }
    cast = name;
    text = text.slice(0, castAt).trim();
  }
  let alias: string | undefined;
  const as = /^(\S+)\s+as\s+(\S+)$/i.exec(text);
  const colon = text.indexOf(':');
  if (as) [, text = '', alias] = as;
  else if (colon >= 0) {
    alias = text.slice(0, colon).trim();
    text = text.slice(colon + 1).trim();
  }
  if (alias !== undefined && !IDENT.test(alias)) return fail('invalid_request', `${field}: alias "${shown(alias)}" must be a plain identifier`);
  if (/[():]/.test(text) || text === '') {
    return fail(
      'invalid_request',
      `${field}: "${shown(raw)}" is an expression, which this gateway does not support`,
      'List columns, alias:column or column::cast, or "*".',
    );
  }
  const dot = text.lastIndexOf('.');
  const token: ColumnToken & { prefix?: string } = { column: dot >= 0 ? text.slice(dot + 1) : text };
  // The row key is the alias, else the column: either spelled `__proto__` would be dropped from the row.
  if (isReservedName(alias ?? token.column)) return reserved(field, alias ?? token.column);
  if (dot >= 0) token.prefix = text.slice(0, dot);
  if (alias !== undefined) token.alias = alias;
  if (cast !== undefined) token.cast = cast;
  return ok(token);
}
