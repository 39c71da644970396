import type { IncomingHttpHeaders } from 'node:http';
import { type Dialect, type ErrorCode, GatewayError, renderErrorBody } from '@gatehouse/core';
import { dialectFromAnthropicVersion } from '../gateway/index.js';

/**
 * Whose error shape a request expects, decided from its path alone, for errors that happen before
 * (or instead of) a route: a model API path gets its SDK's shape, the CLI's OAuth endpoints get
 * RFC 6749's, everything else the admin API's.
 */
export type ErrorShape = Dialect | 'oauth' | 'admin';

const MODEL_PATH = /^(\/api)?\/v1(beta)?\//;

export function errorShapeOf(path: string, headers: IncomingHttpHeaders = {}): ErrorShape {
  if (path.startsWith('/api/auth/cli/')) return 'oauth';
  if (!MODEL_PATH.test(path)) return 'admin';
  return modelApiDialect(path, headers);
}

/**
 * The dialect of a model API path: Anthropic's clients always send `anthropic-version` (and post
 * to `/v1/messages`), Gemini's paths are `/v1beta/`; everything else under `/v1/` is OpenAI's.
 */
export function modelApiDialect(path: string, headers: IncomingHttpHeaders): Dialect {
  if (/^(\/api)?\/v1\/messages/.test(path)) return 'anthropic';
  return dialectFromAnthropicVersion(headers, path.includes('/v1beta/') ? 'google' : 'openai');
}

/** The status and body of one edge error in the given shape. */
export function renderEdgeError(
  shape: ErrorShape,
  code: ErrorCode,
  message: string,
  requestId: string,
): { status: number; body: unknown } {
  const error = new GatewayError(code, message);
  switch (shape) {
    case 'admin':
      return { status: error.status, body: { error: { code, message } } };
    case 'oauth':
      // RFC 6749 §5.2: every malformed request is `invalid_request`.
      return { status: error.status, body: { error: 'invalid_request', error_description: message } };
    default:
      return { status: error.status, body: renderErrorBody(shape, error, requestId) };
  }
}

/** Our error code for a framework (Fastify) error's status, on paths that have a dialect. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 413) return 'body_too_large';
  if (status === 404) return 'route_not_found';
  if (status === 405) return 'method_not_allowed';
  if (status === 408) return 'request_timeout';
  if (status === 431) return 'headers_too_large';
  return status >= 500 ? 'internal' : 'invalid_request';
}

/**
 * The path of a request Node could not parse, read from its first line (`POST /v1/… HTTP/1.1`),
 * so even a request with oversized headers is answered in its caller's shape.
 */
export function pathOfRawRequest(rawPacket: Buffer | undefined): string {
  const firstLine = rawPacket?.subarray(0, 2048).toString('latin1').split('\r\n')[0] ?? '';
  return firstLine.split(' ')[1] ?? '';
}
