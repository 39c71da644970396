/**
 * The OpenAI Chat Completions dialect: the most widely spoken client API, and the one most
 * OpenAI-compatible providers serve.
 * @see https://platform.openai.com/docs/api-reference/chat
 */
import type { DialectCodec } from '../neutral.js';
import { parseOpenAiChatRequest } from './request-parse.js';
import { renderOpenAiChatRequest } from './request-render.js';
import { parseOpenAiChatResponse, renderOpenAiChatResponse } from './response.js';
import { type Clock, systemClock } from './shared.js';
import { createOpenAiChatStreamParser } from './stream-parser.js';
import { createOpenAiChatStreamRenderer, type OpenAiChatStreamRendererOptions } from './stream-renderer.js';

export type { Clock as OpenAiChatClock } from './shared.js';
export type { OpenAiChatStreamRendererOptions } from './stream-renderer.js';

/**
 * A Chat Completions codec reading `created` timestamps from `clock`, so every mapper stays
 * pure. The stream renderer always renders the final usage chunk: the gateway uses
 * {@link createOpenAiChatStreamRendererWith} with `includeUsage: false` when the client did not
 * send `stream_options.include_usage`.
 */
export function createOpenAiChatCodec(clock: Clock): DialectCodec {
  return {
    parseRequest: parseOpenAiChatRequest,
    renderRequest: renderOpenAiChatRequest,
    parseResponse: parseOpenAiChatResponse,
    renderResponse: (response) => renderOpenAiChatResponse(response, clock),
    createStreamParser: createOpenAiChatStreamParser,
    createStreamRenderer: () => createOpenAiChatStreamRenderer(clock),
  };
}

/** A Chat Completions stream renderer with options (e.g. without the usage chunk). */
export function createOpenAiChatStreamRendererWith(
  options: OpenAiChatStreamRendererOptions,
  clock: Clock = systemClock,
): ReturnType<typeof createOpenAiChatStreamRenderer> {
  return createOpenAiChatStreamRenderer(clock, options);
}

export const openAiChatCodec: DialectCodec = createOpenAiChatCodec(systemClock);
