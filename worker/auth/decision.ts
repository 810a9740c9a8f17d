/**
 * The auth decision: the steps of decision-steps.ts, in order, run by one driver. The driver stays
 * synchronous until a step must wait, so a request that memory decides (cached key, directory
 * answering) gets its decision as a plain value, without a promise; the middleware relies on that.
 * The decision is a value — the verdict and what telemetry records of the attempt — and the
 * middleware logs, counts and answers for it once (docs/auth.md "The path, in order").
 */
import type { SessionContext } from '../db/with-session.js';
import { admittedOnFreshKnowledge, unlessStaleAdmission } from './catalog-changes.js';
import { RECALL, STEPS, type DecisionRules, type DecisionState, type StepAnswer, type Verdict } from './decision-steps.js';

export { withLimit } from './admitted.js';
export type { DecisionRules, Refusal, RefusalName, Unavailable, Verdict } from './decision-steps.js';

/** The verdict, with the presented key's prefix and (without a client header) the client the key belongs to. */
export type Decision = { readonly verdict: Verdict; readonly keyPrefix: string | null; readonly keyClient: string | undefined };

/**
 * Runs the steps in order; the first verdict ends the decision. An admission on knowledge of
 * catalog changes older than the bound is decided again once the changes are checked (a refusal
 * stands: refusing on older knowledge is never the unsafe side).
 */
export function judge(ctx: SessionContext, request: Request, rules: DecisionRules, now: () => number = Date.now): Decision | Promise<Decision> {
  const s: DecisionState = {
    ctx,
    request,
    rules,
    now,
    headerClient: undefined,
    key: undefined,
    hash: '',
    cached: undefined,
    keyPrefix: null,
    keyClient: undefined,
    policy: undefined,
    record: undefined,
    waited: false,
  };
  const verdict = run(s, 0);
  if (verdict instanceof Promise) return checkedAdmission(s, verdict).then((v) => decided(v, s));
  if (unlessStaleAdmission(ctx, verdict)) return decided(verdict, s);
  return checkedAdmission(s, undefined).then((v) => decided(v, s));
}

/** `STEPS` from `from` on: a verdict as soon as one is known, a promise only once a step has to wait. */
function run(s: DecisionState, from: number): Verdict | Promise<Verdict> {
  for (let i = from; i < STEPS.length; i++) {
    const answer = (STEPS[i] as (typeof STEPS)[number])(s);
    if (answer === undefined) continue;
    if (answer instanceof Promise) return answer.then((a) => resumed(s, a, i + 1));
    return answer;
  }
  throw new Error('auth decision ended without a verdict'); // the last step always answers
}

function resumed(s: DecisionState, answer: StepAnswer, next: number): Verdict | Promise<Verdict> {
  s.waited = true;
  return answer ?? run(s, next);
}

/**
 * The verdict `pending` settles to (else a fresh pass from `RECALL`), checked against catalog
 * changes when it admits on old knowledge; decided again from `RECALL` if the check dropped anything.
 */
function checkedAdmission(s: DecisionState, pending: Promise<Verdict> | undefined): Promise<Verdict> {
  let first = pending;
  return admittedOnFreshKnowledge(s.ctx, s.request.signal, async () => {
    const current = first;
    first = undefined;
    if (current) return current;
    s.waited = true;
    return run(s, RECALL);
  });
}

const decided = (verdict: Verdict, s: DecisionState): Decision => ({ verdict, keyPrefix: s.keyPrefix, keyClient: s.keyClient });
