import type { IncomingHttpHeaders } from 'node:http';

/**
 * Finds the caller's key wherever its SDK puts it: OpenAI's `Authorization: Bearer`,
 * Anthropic's `x-api-key`, Google's `x-goog-api-key` or `?key=`, Azure's `api-key`.
 */
export function keyFromRequest(
  headers: IncomingHttpHeaders,
  query: URLSearchParams | undefined,
): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    if (match?.[1]) return match[1].trim();
  }
  const header = headers['x-api-key'] ?? headers['x-goog-api-key'] ?? headers['api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  return query?.get('key') ?? undefined;
}
