/** The operator's view of a database error: names and the detail's shape, never a value. */
import { describe, expect, it } from 'vitest';
import { detailShape, keyColumns, operatorFields } from '../../worker/gateway/pg-error-detail.js';

const SSN = '078-05-1120';

describe('detailShape', () => {
  it.each([
    [`Key (id)=(${SSN}) already exists.`, 'Key (id)=(…) already exists.'],
    [`Key (a, "B c")=(${SSN}, x) already exists.`, 'Key (a, B c)=(…) already exists.'],
    [`Key (id)=(${SSN}) is still referenced from table "notes".`, 'Key (id)=(…) is still referenced from table "notes".'],
    [`Key (todo_id)=(${SSN}) is not present in table "todos".`, 'Key (todo_id)=(…) is not present in table "todos".'],
    [`Key (lower(email))=(${SSN}) already exists.`, 'Key (…)=(…) already exists.'],
    [`Key (r)=([${SSN},2)) conflicts with existing key (r)=([1,${SSN})).`, 'Key (r)=(…) conflicts with an existing key.'],
    [`Failing row contains (null, ${SSN}, f).`, 'Failing row contains (…).'],
    // A value dressed as the suffix is cut with the rest: the table name may hold no quote or parenthesis.
    [`Key (id)=(x) is not present in table "${SSN}") is still referenced from table "notes".`, 'Key (id)=(…) is still referenced from table "notes".'],
  ])('%s', (detail, shape) => {
    expect(detailShape(detail)).toBe(shape);
  });

  it('withholds a detail it does not recognise', () => {
    expect(detailShape(`Array value must start with "{": ${SSN}`)).toBeUndefined();
    expect(detailShape(undefined)).toBeUndefined();
  });
});

describe('keyColumns', () => {
  it('reads only a plain column list, never past the first ")=("', () => {
    expect(keyColumns('Key (id)=(1) already exists.')).toEqual(['id']);
    expect(keyColumns(`Key (a)=(x)=(y) already exists.`)).toEqual(['a']);
    expect(keyColumns('Key (lower(email))=(a) already exists.')).toBeUndefined();
    expect(keyColumns('Key (a b)=(1) already exists.')).toBeUndefined();
    expect(keyColumns('Failing row contains (1).')).toBeUndefined();
  });
});

describe('operatorFields', () => {
  it('keeps value-free server text (class 23) and drops it where it quotes values (22, P0)', () => {
    const unique = operatorFields(
      {
        message: 'duplicate key value violates unique constraint "t_pkey"',
        detail: `Key (id)=(${SSN}) already exists.`,
        constraint: 't_pkey',
        schema: 'public',
        table: 't',
      },
      '23505',
    );
    expect(unique).toEqual({
      sqlstate: '23505',
      message: 'duplicate key value violates unique constraint "t_pkey"',
      detail: 'Key (id)=(…) already exists.',
      constraint: 't_pkey',
      schema: 'public',
      table: 't',
      column: undefined,
    });
    expect(operatorFields({ message: `invalid input syntax for type integer: "${SSN}"` }, '22P02').message).toBeUndefined();
    expect(operatorFields({ message: `user ${SSN} exists` }, 'P0001').message).toBeUndefined();
    expect(
      JSON.stringify(operatorFields({ message: 'null value in column "id"', detail: `Failing row contains (null, ${SSN}).`, column: 'id' }, '23502')),
    ).not.toContain(SSN);
  });
});
