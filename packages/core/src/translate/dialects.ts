/**
 * The wire dialects translation speaks: the three client families' APIs plus the provider-only
 * Bedrock Converse. Each has a codec in its own folder here.
 */
export type WireDialect =
  | 'anthropic-messages'
  | 'openai-chat'
  | 'openai-responses'
  | 'gemini'
  | 'bedrock-converse';
