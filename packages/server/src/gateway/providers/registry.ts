import type { ProviderType } from '../../store/schema.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { openAiAdapter } from './openai/adapter.js';
import type { ProviderAdapter } from './types.js';

/** The provider types the gateway can call today; the admin API refuses the others. */
export const providerAdapters: Partial<Record<ProviderType, ProviderAdapter>> = {
  openai: openAiAdapter,
  anthropic: anthropicAdapter,
};

export function adapterFor(type: ProviderType): ProviderAdapter | undefined {
  return providerAdapters[type];
}
