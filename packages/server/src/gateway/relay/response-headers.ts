import type { IncomingHttpHeaders } from 'node:http';

/**
 * Upstream headers a client must see as the provider sent them: content type, retry advice,
 * rate-limit state and the provider's own request id. Everything else (cookies, account ids,
 * hop-by-hop and length/encoding headers the gateway re-frames) stays behind.
 */
const PASSED_HEADERS = new Set([
  'content-type',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'request-id',
  'x-request-id',
  'openai-processing-ms',
  'openai-version',
]);
const PASSED_PREFIXES = ['x-ratelimit-', 'anthropic-ratelimit-'];

export function passThroughHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined) continue;
    if (PASSED_HEADERS.has(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      headers[name] = value;
    }
  }
  return headers;
}
