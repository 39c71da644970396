import {
  bedrockConverseCodec,
  type DialectCodec,
  geminiCodec,
  openAiResponsesCodec,
  type WireDialect,
} from '@gatehouse/core';

export { createGeminiJsonArrayRenderer } from '@gatehouse/core';

/** The translation codecs the gateway has, by wire dialect. */
const codecs: Partial<Record<WireDialect, DialectCodec>> = {
  'openai-responses': openAiResponsesCodec,
  gemini: geminiCodec,
  'bedrock-converse': bedrockConverseCodec,
};

export function codecFor(dialect: WireDialect): DialectCodec | undefined {
  return codecs[dialect];
}

export function canTranslate(from: WireDialect, to: WireDialect): boolean {
  return codecs[from] !== undefined && codecs[to] !== undefined;
}
