/**
 * The Gemini `generateContent` dialect (Google AI Studio REST, v1beta; what Gemini CLI speaks).
 * The model lives in the URL: `parseRequest` returns `model: ''` and `stream: false` for the
 * caller to fill in from the route, and `renderRequest` never writes a model into the body.
 * `createStreamRenderer` renders `alt=sse`; `createGeminiJsonArrayRenderer` renders the JSON
 * array Google streams without `alt=sse`.
 * @see https://ai.google.dev/api/generate-content
 */
import type { DialectCodec } from '../neutral.js';
import { parseRequest, renderRequest } from './request.js';
import { parseResponse, renderResponse } from './response.js';
import { createGeminiStreamParser } from './stream-parser.js';
import { createGeminiJsonArrayRenderer, createGeminiStreamRenderer } from './stream-renderer.js';

export { createGeminiJsonArrayRenderer };

export const geminiCodec: DialectCodec = {
  parseRequest,
  renderRequest,
  parseResponse,
  renderResponse,
  createStreamParser: createGeminiStreamParser,
  createStreamRenderer: createGeminiStreamRenderer,
};
