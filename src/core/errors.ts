/**
 * The one error type of Clientele. Every failure the engine reports to a caller is a
 * ClienteleError with a code from this closed list; the HTTP layer and each dialect
 * render it in their own shape, and statusOf() is the only place a code meets a status.
 */
export const errorCodes = {
  validation_failed: 400,
  malformed_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  store_not_found: 404,
  customer_not_found: 404,
  custom_field_not_found: 404,
  api_key_not_found: 404,
  segment_not_found: 404,
  method_not_allowed: 405,
  identity_conflict: 409,
  idempotency_in_progress: 409,
  alias_taken: 409,
  already_merged: 409,
  merge_not_undoable: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  identifier_required: 422,
  invalid_filter: 422,
  custom_field_type_mismatch: 422,
  limit_exceeded: 422,
  loyalty_rule_violated: 422,
  idempotency_key_reused: 422,
  customer_suppressed: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  values_preparing: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** Where in the request a problem is (a JSON Pointer) and what is wrong there. */
export interface FieldProblem {
  path: string;
  message: string;
}

export class ClienteleError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldProblem[];
  /** Extra, code-specific facts a renderer may show (e.g. who holds a conflicting identifier). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    errors: FieldProblem[] = [],
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ClienteleError';
    this.code = code;
    this.errors = errors;
    this.details = details;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export function statusOf(code: ErrorCode): number {
  return errorCodes[code];
}

/**
 * A fault in what a process runs with (its configuration, its port, its database), not
 * in a request: the message alone tells the operator what is wrong and what to check,
 * so the clientele command prints it as it is, without a stack.
 */
export class SetupError extends Error {}

/** Named factories for the errors raised in more than one place. */
export const fail = {
  validation: (errors: FieldProblem[]) =>
    new ClienteleError(
      'validation_failed',
      errors.length === 1 && errors[0]
        ? `${errors[0].path || 'body'}: ${errors[0].message}`
        : `${errors.length} fields are invalid`,
      errors,
    ),
  field: (path: string, message: string) => fail.validation([{ path, message }]),
  limit: (path: string, message: string) =>
    new ClienteleError('limit_exceeded', `${path}: ${message}`, [{ path, message }]),
  storeNotFound: () => new ClienteleError('store_not_found', 'No such store.'),
  /**
   * A store path a key cannot see: another store's or one that does not exist, answered
   * alike so that a key learns nothing of other stores.
   */
  storeNotVisible: () =>
    new ClienteleError('store_not_found', 'No store with this id is visible to this key.', [
      { path: '/path/storeId', message: 'no store with this id is visible to this key' },
    ]),
  customerNotFound: (id?: string) =>
    new ClienteleError('customer_not_found', id ? `No customer ${id}.` : 'No such customer.'),
  unauthorized: (message = 'Missing or invalid API key.') =>
    new ClienteleError('unauthorized', message),
};
