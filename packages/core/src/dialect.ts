import type { WireDialect } from './translate/dialects.js';

/**
 * The API families a client can speak to the gateway. Each has its own request shape, stream
 * framing and error shape; the gateway answers every caller in the family it spoke.
 */
export type Dialect = 'openai' | 'anthropic' | 'google';

/** One concrete API a route serves, e.g. OpenAI chat completions. */
export type ApiKind =
  | 'openai-chat'
  | 'openai-responses'
  | 'openai-embeddings'
  | 'anthropic-messages'
  | 'anthropic-count-tokens'
  | 'gemini-generate'
  | 'gemini-count-tokens';

export const dialectOfApi: Record<ApiKind, Dialect> = {
  'openai-chat': 'openai',
  'openai-responses': 'openai',
  'openai-embeddings': 'openai',
  'anthropic-messages': 'anthropic',
  'anthropic-count-tokens': 'anthropic',
  'gemini-generate': 'google',
  'gemini-count-tokens': 'google',
};

/**
 * The translation codec that reads a client API's requests and writes its answers; undefined
 * for APIs that only pass through to providers that speak them natively.
 */
export const wireDialectOfApi: Record<ApiKind, WireDialect | undefined> = {
  'openai-chat': 'openai-chat',
  'openai-responses': 'openai-responses',
  'openai-embeddings': undefined,
  'anthropic-messages': 'anthropic-messages',
  'anthropic-count-tokens': undefined,
  'gemini-generate': 'gemini',
  'gemini-count-tokens': undefined,
};
