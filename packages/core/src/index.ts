/** Public surface of `@gatehouse/core`: pure, synchronous building blocks with no I/O. */

export * from './budget-window.js';
export * from './client-tool.js';
export * from './cost.js';
export * from './dialect.js';
export * from './errors.js';
export * from './json.js';
export * from './json-depth.js';
export * from './keys.js';
export * from './model-patterns.js';
export * from './sse-decoder.js';
export * from './sse-event-splitter.js';
export * from './stream-tap.js';
export { anthropicMessagesCodec } from './translate/anthropic-messages/index.js';
export { bedrockConverseCodec } from './translate/bedrock-converse/index.js';
export * from './translate/dialects.js';
export { createGeminiJsonArrayRenderer, geminiCodec } from './translate/gemini/index.js';
export * from './translate/neutral.js';
export { createOpenAiChatStreamRendererWith, openAiChatCodec } from './translate/openai-chat/index.js';
export { openAiResponsesCodec } from './translate/openai-responses/index.js';
export * from './usage.js';
export * from './usage-extract.js';
