/** `__proto__`, `constructor` and `prototype` as an alias, output column or row key: 400 naming it, never dropped. */
import { describe, expect, it } from 'vitest';
import { parseColumnToken, parseSelectObject, parseSelectTokens } from '../../worker/gateway/select-list.js';
import { describeIssue, fetchBody, insertBody, updateBody } from '../../worker/gateway/schemas.js';
import { rpcBody } from '../../worker/gateway/rpc-request.js';
import { fetchBodyFromQuery } from '../../worker/gateway/query-params.js';

const NAMES = ['__proto__', 'constructor', 'prototype'];
const refusal = (name: string) => `"${name}" cannot be used as a column name, key or alias`;

describe('select lists', () => {
  it.each(NAMES)('%s as an alias or an unaliased column is refused; as an aliased column it is read', (name) => {
    for (const token of [`${name}:title`, `title as ${name}`, name, `${name}::text`]) {
      const parsed = parseColumnToken(token, 'columns');
      expect(parsed.ok, token).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatchObject({ code: 'invalid_request', message: `columns: ${refusal(name)}` });
    }
    expect(parseColumnToken(`c:${name}`, 'columns')).toEqual({ ok: true, value: { column: name, alias: 'c' } });
  });

  it('an embed keyed so is refused, in both spellings', () => {
    const token = parseSelectTokens('id,__proto__:users(id)', 'columns');
    expect(token.ok ? token : token.error.message).toBe(`columns: ${refusal('__proto__')}`);
    const object = parseSelectObject(JSON.parse('{"id": true, "users": {"select": {"id": true}, "as": "constructor"}}'));
    expect(object.ok ? object : object.error.message).toBe(`select: ${refusal('constructor')}`);
  });
});

describe('bodies', () => {
  const issue = (schema: { safeParse: (v: unknown) => { success: boolean; error?: unknown } }, json: string): string => {
    const r = schema.safeParse(JSON.parse(json));
    return r.success ? 'accepted' : describeIssue(r.error as Parameters<typeof describeIssue>[0]);
  };

  it.each(NAMES)('%s as a key of a row, an object select or rpc args is refused naming it', (name) => {
    const key = JSON.stringify(name);
    expect(issue(insertBody, `{"table_name":"t","insert_body":{${key}:1,"id":2}}`)).toBe(`insert_body.${name}: cannot be used as a column name, key or alias`);
    expect(issue(insertBody, `{"table_name":"t","insert_body":[{"id":1},{${key}:1}]}`)).toBe(
      `insert_body.1.${name}: cannot be used as a column name, key or alias`,
    );
    expect(issue(updateBody, `{"table_name":"t","update_body":{${key}:null},"conditions":[{"column":"id","operator":"eq","value":1}]}`)).toBe(
      `update_body.${name}: cannot be used as a column name, key or alias`,
    );
    expect(issue(fetchBody, `{"table_name":"t","select":{${key}:true}}`)).toBe(`select.${name}: cannot be used as a column name, key or alias`);
    expect(issue(rpcBody, `{"function":"f","args":{${key}:1}}`)).toBe(`args.${name}: cannot be used as a column name, key or alias`);
  });

  it('values that merely contain such keys (json columns) pass untouched', () => {
    const r = insertBody.safeParse(JSON.parse('{"table_name":"t","insert_body":{"doc":{"__proto__":{"a":1},"constructor":2}}}'));
    expect(r.success).toBe(true);
    if (r.success) expect(JSON.stringify(r.data.insert_body)).toBe('{"doc":{"__proto__":{"a":1},"constructor":2}}');
  });

  it('a query parameter of GET /gateway/fetch spelled so is refused, not dropped', () => {
    expect(() => fetchBodyFromQuery(new URLSearchParams('table_name=t&__proto__=x'))).toThrow(/^__proto__: cannot be used/);
  });
});
