/**
 * `GET /gateway/fetch?table_name=…`: the fetch body from query parameters (a bonus the protocol
 * allows). `conditions` and `sort_by` may be JSON; `sort_by=name.desc` also works. Pure.
 */
import { GatewayError } from '../errors.js';
import { RESERVED_NAME_MESSAGE, isReservedName } from './reserved-names.js';

const INTEGER_FIELDS = ['limit', 'offset', 'current_page', 'page_size'] as const;
const BOOLEAN_FIELDS = ['head', 'strip_nulls'] as const;
const TEXT_FIELDS = ['table_name', 'view_name', 'columns', 'count'] as const;

export function fetchBodyFromQuery(params: URLSearchParams): Record<string, unknown> {
  // `body.__proto__ = v` below would drop the parameter instead of the schema naming it.
  for (const k of params.keys()) if (isReservedName(k)) throw new GatewayError('invalid_request', `${k}: ${RESERVED_NAME_MESSAGE}`);
  const body: Record<string, unknown> = {};
  for (const f of TEXT_FIELDS) {
    const v = params.get(f);
    if (v !== null) body[f] = v;
  }
  for (const f of INTEGER_FIELDS) {
    const v = params.get(f);
    if (v !== null) body[f] = /^\d{1,15}$/.test(v) ? Number(v) : v;
  }
  for (const f of BOOLEAN_FIELDS) {
    const v = params.get(f);
    if (v !== null) body[f] = v === 'true' ? true : v === 'false' ? false : v;
  }
  const conditions = params.get('conditions');
  if (conditions !== null) body.conditions = json(conditions, 'conditions');
  // Any other parameter goes through as text, so the strict body schema names it (400) instead of it being ignored.
  const known = new Set<string>([...TEXT_FIELDS, ...INTEGER_FIELDS, ...BOOLEAN_FIELDS, 'conditions', 'sort_by']);
  for (const [k, v] of params) if (!known.has(k) && !Object.hasOwn(body, k)) body[k] = v;
  const sort = params.get('sort_by');
  if (sort !== null) {
    const dot = /^(.+)\.(asc|desc|ascending|descending)$/.exec(sort);
    body.sort_by = sort.startsWith('{') || sort.startsWith('[') ? json(sort, 'sort_by') : dot ? { field: dot[1], direction: dot[2] } : { field: sort };
  }
  return body;
}

function json(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('invalid_json', `Query parameter ${field} is not valid JSON`);
  }
}
