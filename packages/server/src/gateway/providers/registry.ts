import type { ProviderType } from '../../store/schema.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { azureAdapter } from './azure/adapter.js';
import { bedrockAdapter } from './bedrock/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { openAiAdapter } from './openai/adapter.js';
import type { ProviderAdapter } from './types.js';
import { vertexAdapter } from './vertex/adapter.js';

/**
 * The providers the gateway can call, one adapter folder each: adding a provider is its folder and
 * one line here. The admin API (fields, validation, OpenAPI document) and the gateway read this
 * list; the admin API refuses every other type.
 */
const builtInAdapters: readonly ProviderAdapter[] = [
  openAiAdapter,
  anthropicAdapter,
  geminiAdapter,
  azureAdapter,
  bedrockAdapter,
  vertexAdapter,
];

const adapters = new Map<ProviderType, ProviderAdapter>(
  builtInAdapters.map((adapter) => [adapter.type, adapter]),
);

export function adapterFor(type: ProviderType): ProviderAdapter | undefined {
  return adapters.get(type);
}

/** Every registered adapter, in the order the admin API documents them. */
export function registeredAdapters(): readonly ProviderAdapter[] {
  return [...adapters.values()];
}

/**
 * Adds an adapter beside the built-in ones: how a test proves that a provider is one folder and
 * one registry line. Call it before the server is assembled, since the admin API draws its
 * schemas from the registry when its routes are registered.
 */
export function registerAdapter(adapter: ProviderAdapter): void {
  if (adapters.has(adapter.type))
    throw new Error(`A provider adapter of type '${adapter.type}' is registered already.`);
  adapters.set(adapter.type, adapter);
}
