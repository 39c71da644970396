import { type Dialect, type ErrorCode, GatewayError, isRecord, renderErrorBody } from '@gatehouse/core';

/**
 * A provider's error, re-rendered for a client that speaks another dialect: the status and the
 * provider's message are kept; only the shape changes to what the client's SDK parses.
 */
export function translateUpstreamError(
  status: number,
  body: Buffer,
  dialect: Dialect,
  requestId: string,
): string {
  const error = new GatewayError(
    codeForStatus(status),
    messageOf(body) ?? `The provider answered ${status}.`,
  );
  const rendered = renderErrorBody(dialect, error, requestId) as Record<string, unknown>;
  // The provider's status wins over our code's default (e.g. 529 overloaded, 503).
  if (dialect === 'google') (rendered.error as Record<string, unknown>).code = status;
  return JSON.stringify(rendered);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'upstream_unreachable';
  if (status === 404) return 'model_not_found';
  if (status === 413) return 'body_too_large';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'upstream_unreachable';
  return 'invalid_request';
}

/** The human message of any provider's error body: OpenAI, Anthropic, Google or AWS shapes. */
function messageOf(body: Buffer): string | undefined {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(json)) return undefined;
    const nested = json.error;
    if (isRecord(nested) && typeof nested.message === 'string') return nested.message;
    if (typeof nested === 'string') return nested;
    for (const key of ['message', 'Message']) {
      const message = json[key];
      if (typeof message === 'string') return message;
    }
  } catch {
    // not JSON: fall through
  }
  return undefined;
}
