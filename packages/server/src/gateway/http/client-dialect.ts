import type { IncomingHttpHeaders } from 'node:http';
import type { Dialect } from '@gatehouse/core';

/**
 * Whose shape a caller parses, on a path several SDKs share (`/v1/models`, an unknown `/v1/…`):
 * Anthropic's SDKs and Claude Code send `anthropic-version` on every call and the others never
 * do, so the header decides; without it the path's own dialect (`otherwise`) stands. The one
 * rule for the gateway's routes and the HTTP edge alike.
 */
export function dialectFromAnthropicVersion(
  headers: IncomingHttpHeaders,
  otherwise: Dialect = 'openai',
): Dialect {
  return headers['anthropic-version'] !== undefined ? 'anthropic' : otherwise;
}
