import type { ProviderType } from '../../store/schema.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { azureAdapter } from './azure/adapter.js';
import { bedrockAdapter } from './bedrock/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { openAiAdapter } from './openai/adapter.js';
import type { ProviderAdapter } from './types.js';
import { vertexAdapter } from './vertex/adapter.js';

/** The provider types the gateway can call today; the admin API refuses the others. */
export const providerAdapters: Partial<Record<ProviderType, ProviderAdapter>> = {
  openai: openAiAdapter,
  anthropic: anthropicAdapter,
  bedrock: bedrockAdapter,
  vertex: vertexAdapter,
  gemini: geminiAdapter,
  azure: azureAdapter,
};

export function adapterFor(type: ProviderType): ProviderAdapter | undefined {
  return providerAdapters[type];
}
