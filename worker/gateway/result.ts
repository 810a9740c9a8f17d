/**
 * What a pure parse or plan step answers: a value, or the expected failure as a value (a `PlanError`
 * the HTTP edge turns into its error envelope). Nothing in these steps throws for a bad request.
 */

export type Result<T> = { ok: true; value: T } | { ok: false; error: PlanError };
export type PlanError = {
  code:
    | 'invalid_request'
    | 'invalid_condition'
    | 'unknown_table'
    | 'unknown_column'
    | 'unknown_function'
    | 'forbidden_table'
    | 'forbidden_function'
    | 'scope_denied'
    | 'unfiltered_update'
    | 'unfiltered_delete'
    | 'payload_too_large';
  message: string;
  hint?: string;
};
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: PlanError['code'], message: string, hint?: string): Result<T> =>
  hint === undefined ? { ok: false, error: { code, message } } : { ok: false, error: { code, message, hint } };
