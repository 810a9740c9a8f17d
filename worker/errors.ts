/**
 * The closed set of error codes the gateway answers with, and their HTTP statuses: one place maps
 * failures to `{"error":{"code","message","hint"}}` (docs/protocol.md "Responses").
 */
export const STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  missing_client_header: 400,
  conflicting_credentials: 400,
  unknown_table: 400,
  unknown_column: 400,
  unknown_function: 400,
  invalid_condition: 400,
  unfiltered_update: 400,
  unfiltered_delete: 400,
  missing_api_key: 401,
  invalid_api_key: 401,
  unauthorized: 401,
  client_inactive: 403,
  client_frozen: 403,
  unknown_client: 403,
  key_client_mismatch: 403,
  scope_denied: 403,
  forbidden_table: 403,
  forbidden_function: 403,
  not_found: 404,
  unsupported_operation: 404,
  method_not_allowed: 405,
  statement_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  gateway_misconfigured: 500,
  internal_error: 500,
  api_key_policy_unavailable: 503,
  api_key_validation_unavailable: 503,
  /** The auth lookup got no permit (or its client's fair share) within DB_ACQUIRE_TIMEOUT_MS: the gateway's own limit, the catalog was not asked. */
  api_key_policy_busy: 503,
  api_key_validation_busy: 503,
  database_unavailable: 503,
  /** No permit of the target's budget within DB_ACQUIRE_TIMEOUT_MS: the gateway is at its own limit, the database may be fine. */
  database_busy: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS;

export type ErrorBody = { error: { code: ErrorCode; message: string; hint: string | null } };

/** A failure the HTTP edge turns into the error envelope; `retryAfter` (seconds) for 503s. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | null;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; retryAfter?: number } = {}) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.hint = opts.hint ?? null;
    this.retryAfter = opts.retryAfter ?? (STATUS[code] === 503 ? 1 : undefined);
  }

  get status(): (typeof STATUS)[ErrorCode] {
    return STATUS[this.code];
  }
}

/** Builds the error response: envelope, status, and `Retry-After` when set. */
export function errorResponse(err: GatewayError, requestId?: string): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message, hint: err.hint } };
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  if (err.retryAfter !== undefined) headers.set('retry-after', String(err.retryAfter));
  if (requestId) headers.set('x-request-id', requestId);
  return new Response(JSON.stringify(body), { status: err.status, headers });
}
