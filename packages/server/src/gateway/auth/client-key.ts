/**
 * Reads the key the *client* sent (a virtual key, `gth_…`) from wherever its SDK puts it. Not
 * provider credentials: those are the organisation's accounts with a vendor (`providers/`).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The token of an `Authorization: Bearer …` header, if the request has one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return match?.[1]?.trim() || undefined;
}

/**
 * Finds the caller's key wherever its SDK puts it: OpenAI's `Authorization: Bearer`,
 * Anthropic's `x-api-key`, Google's `x-goog-api-key` or `?key=`, Azure's `api-key`.
 */
export function keyFromRequest(
  headers: IncomingHttpHeaders,
  query: URLSearchParams | undefined,
): string | undefined {
  const bearer = bearerToken(headers);
  if (bearer) return bearer;
  const header = headers['x-api-key'] ?? headers['x-goog-api-key'] ?? headers['api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  return query?.get('key') ?? undefined;
}
