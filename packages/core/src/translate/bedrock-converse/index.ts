/**
 * AWS Bedrock Runtime Converse / ConverseStream, the provider-only dialect. All six functions
 * exist so tests can round-trip; in the gateway it is spoken towards Bedrock (renderRequest,
 * parseResponse, createStreamParser).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html
 */
import type { DialectCodec } from '../neutral.js';
import { parseRequest } from './request-parse.js';
import { renderRequest } from './request-render.js';
import { parseResponse, renderResponse } from './response.js';
import { createStreamParser } from './stream-parser.js';
import { createStreamRenderer } from './stream-renderer.js';

export const bedrockConverseCodec: DialectCodec = {
  parseRequest,
  renderRequest,
  parseResponse,
  renderResponse,
  createStreamParser,
  createStreamRenderer,
};

export { usageFromBedrock } from './wire.js';
