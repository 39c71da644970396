import { isCatalogued } from '@gatehouse/core';
import { betasDroppedOutsideAnthropic } from '../anthropic-betas.js';
import { apiKeySecrets, noSettings } from '../credential-fields.js';
import type {
  ProviderAdapter,
  ProviderDialect,
  ProviderTarget,
  UpstreamCall,
  UpstreamRequest,
} from '../types.js';
import { splitBaseUrl } from '../types.js';

/** @see https://platform.openai.com/docs/api-reference */
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const pathOf: Partial<Record<ProviderDialect, string>> = {
  'openai-chat': '/chat/completions',
  'openai-responses': '/responses',
  'openai-embeddings': '/embeddings',
};

/** OpenAI's own model families, as its API names them. */
const OPENAI_MODEL_ID =
  /^(?:gpt-|o\d|chatgpt-|codex-|computer-use|text-embedding-|omni-moderation|text-moderation|dall-e|whisper|tts-|davinci|babbage|ft:)/;

/** Whether a model is OpenAI's own: its id families, or what the price catalogue lists for OpenAI. */
export function isOpenAiModel(model: string): boolean {
  return OPENAI_MODEL_ID.test(model) || isCatalogued(model, 'openai');
}

/**
 * OpenAI and any OpenAI-compatible upstream (the base URL is configurable): bearer auth,
 * `{base}/chat/completions`, `/responses`, `/embeddings`. Other dialects' clients reach it
 * through chat completions, which every compatible server has.
 */
export const openAiAdapter: ProviderAdapter = {
  type: 'openai',
  description: 'OpenAI, or any OpenAI-compatible server at baseUrl (vLLM, Ollama, a proxy)',
  credential: { settings: noSettings, secrets: apiKeySecrets },
  nativeApis: ['openai-chat', 'openai-responses', 'openai-embeddings'],
  priceCatalogueId: 'openai',
  // OpenAI's own endpoint serves only OpenAI's models. What a compatible server at another base
  // URL (vLLM, Ollama, OpenRouter, a proxy) serves is unknowable, so it serves what it lists only.
  servesModel: (target, model) => target.baseUrl === undefined && isOpenAiModel(model),
  translationDialect: () => 'openai-chat',
  requestWarnings: betasDroppedOutsideAnthropic,
  buildRequest(target: ProviderTarget, call: UpstreamCall): UpstreamRequest {
    const path = pathOf[call.dialect];
    if (!path) throw new Error(`openai adapter cannot speak ${call.dialect}`);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
    };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return { origin, path: `${pathPrefix}${path}`, method: 'POST', headers, body: call.body };
  },
  /** @see https://platform.openai.com/docs/api-reference/models/list */
  connectionProbe(target: ProviderTarget): UpstreamRequest {
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return { origin, path: `${pathPrefix}/models`, method: 'GET', headers, body: undefined };
  },
};
