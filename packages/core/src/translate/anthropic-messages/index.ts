/**
 * The Anthropic Messages dialect: Claude Code and the Anthropic SDKs on the client side, the
 * Anthropic API on the provider side.
 * @see https://docs.anthropic.com/en/api/messages
 */
import type { DialectCodec } from '../neutral.js';
import { parseAnthropicRequest } from './request-parse.js';
import { renderAnthropicRequest } from './request-render.js';
import { parseAnthropicResponse, renderAnthropicResponse } from './response.js';
import { createAnthropicStreamParser } from './stream-parser.js';
import { createAnthropicStreamRenderer } from './stream-renderer.js';

export { DEFAULT_MAX_TOKENS as ANTHROPIC_DEFAULT_MAX_TOKENS } from './request-render.js';

export const anthropicMessagesCodec: DialectCodec = {
  parseRequest: parseAnthropicRequest,
  renderRequest: renderAnthropicRequest,
  parseResponse: parseAnthropicResponse,
  renderResponse: renderAnthropicResponse,
  createStreamParser: createAnthropicStreamParser,
  createStreamRenderer: createAnthropicStreamRenderer,
};
