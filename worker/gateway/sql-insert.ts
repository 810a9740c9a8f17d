/**
 * The rows of an INSERT as one bound JSON parameter, whatever their number: Postgres reads it as
 * records of the table's own row type (`json_populate_recordset`), so each value is converted as
 * the column's type takes it, and a large insert within the body size limit never runs into the
 * limit on bind parameters.
 */
import { join, quoteIdent, raw, sharedParam, sql, type Fragment } from '../../drizzle/statement.js';
import type { Relation } from './catalog.js';
import { qualified } from './sql-render.js';

type Row = Readonly<Record<string, unknown>>;

/**
 * `(columns) SELECT … | VALUES …` for `rows`. `columns` is the union of the rows' keys; a key a row
 * lacks is NULL with `defaultToNull`, else DEFAULT. No columns: every row is all defaults.
 */
export function insertRows(rel: Relation, rows: readonly Row[], columns: readonly string[], defaultToNull: boolean): Fragment {
  if (columns.length === 0) {
    // No keys at all: name one column and insert DEFAULT, which works for any number of rows.
    const first = rel.columns[0];
    return raw(first ? `(${quoteIdent(first.name)}) VALUES ${rows.map(() => '(DEFAULT)').join(', ')}` : `() VALUES ${rows.map(() => '()').join(', ')}`);
  }
  const list = columns.map(quoteIdent).join(', ');
  const json = sharedParam(JSON.stringify(rows.map((row) => picked(row, columns))), 'json');
  const rowType = `NULL::${qualified(rel)}`;
  if (defaultToNull || rows.every((row) => columns.every((c) => Object.hasOwn(row, c)))) {
    return sql`${raw(`(${list}) SELECT ${list} FROM json_populate_recordset(${rowType}, `)}${json}) AS "_r"`;
  }
  // Rows with different keys: a key a row lacks is DEFAULT, which only VALUES can say.
  const tuples = rows.map((row, i) => {
    const cells = columns.map((c) =>
      Object.hasOwn(row, c) ? sql`(json_populate_record(${raw(rowType)}, ${json}->${raw(String(i))}))${raw(`.${quoteIdent(c)}`)}` : raw('DEFAULT'),
    );
    return sql`(${join(cells, ', ')})`;
  });
  return sql`${raw(`(${list}) VALUES `)}${join(tuples, ', ')}`;
}

/** The row's values for `columns` (absent keys stay absent: NULL, or DEFAULT where the caller says). */
function picked(row: Row, columns: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) if (Object.hasOwn(row, c)) out[c] = row[c] ?? null;
  return out;
}
