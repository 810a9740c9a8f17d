/**
 * How big a filter tree may be when it reaches Postgres. Planning time grows with the number of OR
 * groups combined under AND (the planner weighs bitmap combinations of every indexable arm): on
 * the dev machine 8 such groups plan in about 2 ms, 16 in 16–85 ms, 32 of 8 arms in 0.5 s, while a
 * single OR of 512 arms or an AND of 256 predicates plans in a few ms. So both are capped, for every
 * route that filters (docs/protocol-sql-rpc-transactions.md "Text limits"). Pure.
 */
import type { Filter } from './filter.js';
import { fail, ok, type Result } from './result.js';

export const FILTER_LIMITS = { maxPredicates: 64, maxOrGroups: 8 } as const;

const HINT = 'Fewer conditions per request: an IN list is one predicate, and (a OR b) AND (c OR d) can often be one IN per column.';

/**
 * Counts predicates (leaves; an IN list is one) and OR groups: an OR of two or more arms, or a NOT
 * over an AND of two or more (Postgres turns that into an OR). Walks with a stack, no recursion.
 */
export function checkFilterSize(where: readonly Filter[]): Result<readonly Filter[]> {
  let predicates = 0;
  let groups = 0;
  const stack: { f: Filter; negated: boolean }[] = where.map((f) => ({ f, negated: false }));
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { f, negated } = item;
    if (f.kind === 'not') {
      stack.push({ f: f.filter, negated: !negated });
    } else if (f.kind === 'and' || f.kind === 'or') {
      if (f.filters.length > 1 && (f.kind === 'or') !== negated) groups++;
      for (const x of f.filters) stack.push({ f: x, negated });
    } else {
      predicates++;
    }
    if (predicates > FILTER_LIMITS.maxPredicates) return fail('invalid_condition', `The filter has more than ${FILTER_LIMITS.maxPredicates} predicates`, HINT);
    if (groups > FILTER_LIMITS.maxOrGroups) return fail('invalid_condition', `The filter has more than ${FILTER_LIMITS.maxOrGroups} OR groups`, HINT);
  }
  return ok(where);
}
