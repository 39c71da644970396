/**
 * The API families a client can speak to the gateway. Each has its own request shape, stream
 * framing and error shape; the gateway answers every caller in the family it spoke.
 */
export type Dialect = 'openai' | 'anthropic' | 'google';

/** One concrete API a route serves, e.g. OpenAI chat completions. */
export type ApiKind = 'openai-chat' | 'openai-responses' | 'openai-embeddings' | 'anthropic-messages';

export const dialectOfApi: Record<ApiKind, Dialect> = {
  'openai-chat': 'openai',
  'openai-responses': 'openai',
  'openai-embeddings': 'openai',
  'anthropic-messages': 'anthropic',
};
