import {
  anthropicMessagesCodec,
  bedrockConverseCodec,
  type DialectCodec,
  geminiCodec,
  openAiChatCodec,
  openAiResponsesCodec,
  type WireDialect,
} from '@gatehouse/core';

export { createGeminiJsonArrayRenderer, createOpenAiChatStreamRendererWith } from '@gatehouse/core';

/** The translation codecs the gateway has, by wire dialect. */
const codecs: Record<WireDialect, DialectCodec> = {
  'anthropic-messages': anthropicMessagesCodec,
  'openai-chat': openAiChatCodec,
  'openai-responses': openAiResponsesCodec,
  gemini: geminiCodec,
  'bedrock-converse': bedrockConverseCodec,
};

export function codecFor(dialect: WireDialect): DialectCodec {
  return codecs[dialect];
}

/** Every pair translates through the neutral model; kept as a function for the day one cannot. */
export function canTranslate(from: WireDialect, to: WireDialect): boolean {
  return codecs[from] !== undefined && codecs[to] !== undefined;
}
