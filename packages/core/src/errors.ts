import type { Dialect } from './dialect.js';

/**
 * Every error the gateway itself can answer with. A closed union: the tables below are
 * exhaustive records, so adding a code without its status is a compile error.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'malformed_json'
  | 'missing_key'
  | 'invalid_key'
  | 'key_expired'
  | 'key_revoked'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'model_unpriced'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'headers_too_large'
  | 'request_timeout'
  | 'budget_exhausted'
  | 'rate_limited'
  | 'no_provider'
  | 'storage_unavailable'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_invalid_response'
  | 'internal';

/** Who is at fault: decides what the message may say and whether a fallback makes sense. */
export type ErrorFault = 'client' | 'provider' | 'platform';

interface ErrorTraits {
  status: number;
  fault: ErrorFault;
  retryable: boolean;
}

export const errorTraits: Record<ErrorCode, ErrorTraits> = {
  invalid_request: { status: 400, fault: 'client', retryable: false },
  malformed_json: { status: 400, fault: 'client', retryable: false },
  missing_key: { status: 401, fault: 'client', retryable: false },
  invalid_key: { status: 401, fault: 'client', retryable: false },
  key_expired: { status: 401, fault: 'client', retryable: false },
  key_revoked: { status: 401, fault: 'client', retryable: false },
  model_not_allowed: { status: 403, fault: 'client', retryable: false },
  model_not_found: { status: 404, fault: 'client', retryable: false },
  // A block budget cannot be held to a call whose cost is unknown; the fix is a price on the credential.
  model_unpriced: { status: 400, fault: 'client', retryable: false },
  route_not_found: { status: 404, fault: 'client', retryable: false },
  method_not_allowed: { status: 405, fault: 'client', retryable: false },
  body_too_large: { status: 413, fault: 'client', retryable: false },
  headers_too_large: { status: 431, fault: 'client', retryable: false },
  request_timeout: { status: 408, fault: 'client', retryable: true },
  budget_exhausted: { status: 402, fault: 'client', retryable: false },
  rate_limited: { status: 429, fault: 'client', retryable: true },
  no_provider: { status: 503, fault: 'platform', retryable: false },
  // The database or the hot state cannot be reached: keys and budgets cannot be checked.
  storage_unavailable: { status: 503, fault: 'platform', retryable: true },
  upstream_unreachable: { status: 502, fault: 'provider', retryable: true },
  upstream_timeout: { status: 504, fault: 'provider', retryable: true },
  // A success that is not the API at all (a proxy's or captive portal's HTML page): a broken provider.
  upstream_invalid_response: { status: 502, fault: 'provider', retryable: true },
  internal: { status: 500, fault: 'platform', retryable: false },
};

/** An error raised by Gatehouse itself (not an upstream's error, which passes through verbatim). */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fault: ErrorFault;
  readonly retryable: boolean;
  /** Extra response headers, e.g. `retry-after`. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    const traits = errorTraits[code];
    this.status = traits.status;
    this.fault = traits.fault;
    this.retryable = traits.retryable;
    this.headers = options.headers ?? {};
  }
}

/** OpenAI's error `type` for each status family. @see https://platform.openai.com/docs/guides/error-codes */
const openAiType: Record<ErrorCode, string> = {
  invalid_request: 'invalid_request_error',
  malformed_json: 'invalid_request_error',
  missing_key: 'invalid_request_error',
  invalid_key: 'invalid_request_error',
  key_expired: 'invalid_request_error',
  key_revoked: 'invalid_request_error',
  model_not_allowed: 'invalid_request_error',
  model_not_found: 'invalid_request_error',
  model_unpriced: 'invalid_request_error',
  route_not_found: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  body_too_large: 'invalid_request_error',
  headers_too_large: 'invalid_request_error',
  request_timeout: 'invalid_request_error',
  budget_exhausted: 'insufficient_quota',
  rate_limited: 'rate_limit_exceeded',
  no_provider: 'server_error',
  storage_unavailable: 'server_error',
  upstream_unreachable: 'server_error',
  upstream_invalid_response: 'server_error',
  upstream_timeout: 'server_error',
  internal: 'server_error',
};

/** Anthropic's error `type` for each code. @see https://docs.anthropic.com/en/api/errors */
const anthropicType: Record<ErrorCode, string> = {
  invalid_request: 'invalid_request_error',
  malformed_json: 'invalid_request_error',
  missing_key: 'authentication_error',
  invalid_key: 'authentication_error',
  key_expired: 'authentication_error',
  key_revoked: 'authentication_error',
  model_not_allowed: 'permission_error',
  model_not_found: 'not_found_error',
  model_unpriced: 'invalid_request_error',
  route_not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  body_too_large: 'request_too_large',
  headers_too_large: 'invalid_request_error',
  request_timeout: 'timeout_error',
  budget_exhausted: 'billing_error',
  rate_limited: 'rate_limit_error',
  no_provider: 'api_error',
  storage_unavailable: 'api_error',
  upstream_unreachable: 'api_error',
  upstream_invalid_response: 'api_error',
  upstream_timeout: 'timeout_error',
  internal: 'api_error',
};

/** Google's canonical status names. @see https://ai.google.dev/gemini-api/docs/troubleshooting */
const googleStatus: Record<ErrorCode, string> = {
  invalid_request: 'INVALID_ARGUMENT',
  malformed_json: 'INVALID_ARGUMENT',
  missing_key: 'UNAUTHENTICATED',
  invalid_key: 'UNAUTHENTICATED',
  key_expired: 'UNAUTHENTICATED',
  key_revoked: 'UNAUTHENTICATED',
  model_not_allowed: 'PERMISSION_DENIED',
  model_not_found: 'NOT_FOUND',
  model_unpriced: 'FAILED_PRECONDITION',
  route_not_found: 'NOT_FOUND',
  method_not_allowed: 'INVALID_ARGUMENT',
  body_too_large: 'INVALID_ARGUMENT',
  headers_too_large: 'INVALID_ARGUMENT',
  request_timeout: 'DEADLINE_EXCEEDED',
  budget_exhausted: 'RESOURCE_EXHAUSTED',
  rate_limited: 'RESOURCE_EXHAUSTED',
  no_provider: 'UNAVAILABLE',
  storage_unavailable: 'UNAVAILABLE',
  upstream_unreachable: 'UNAVAILABLE',
  upstream_invalid_response: 'UNAVAILABLE',
  upstream_timeout: 'DEADLINE_EXCEEDED',
  internal: 'INTERNAL',
};

/** The JSON body of an error, in the shape the caller's SDK parses. */
export function renderErrorBody(dialect: Dialect, error: GatewayError, requestId: string): unknown {
  // Platform faults never leak their internal message: the request id is what support needs.
  const message =
    error.fault === 'platform' && error.code === 'internal'
      ? `Internal gateway error (request ${requestId}).`
      : error.message;
  switch (dialect) {
    case 'openai':
      return { error: { message, type: openAiType[error.code], param: null, code: error.code } };
    case 'anthropic':
      return { type: 'error', error: { type: anthropicType[error.code], message }, request_id: requestId };
    case 'google':
      return { error: { code: error.status, message, status: googleStatus[error.code] } };
  }
}
