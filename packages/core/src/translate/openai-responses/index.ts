/**
 * The OpenAI Responses dialect (what Codex CLI speaks).
 * @see https://platform.openai.com/docs/api-reference/responses
 */
import type { DialectCodec } from '../neutral.js';
import { parseRequest, renderRequest } from './request.js';
import { parseResponse, renderResponse } from './response.js';
import { createResponsesStreamParser } from './stream-parser.js';
import { createResponsesStreamRenderer } from './stream-renderer.js';

export const openAiResponsesCodec: DialectCodec = {
  parseRequest,
  renderRequest,
  parseResponse,
  renderResponse,
  createStreamParser: createResponsesStreamParser,
  createStreamRenderer: createResponsesStreamRenderer,
};
