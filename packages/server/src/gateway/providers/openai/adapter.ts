import type { ApiKind } from '@gatehouse/core';
import {
  type ClientCall,
  type ProviderAdapter,
  type ProviderTarget,
  splitBaseUrl,
  type UpstreamRequest,
} from '../types.js';

/** @see https://platform.openai.com/docs/api-reference/chat/create */
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const pathOf: Partial<Record<ApiKind, string>> = {
  'openai-chat': '/chat/completions',
};

/**
 * OpenAI and any OpenAI-compatible upstream (the base URL is configurable): bearer auth,
 * `{base}/chat/completions`.
 */
export const openAiAdapter: ProviderAdapter = {
  type: 'openai',
  nativeApis: ['openai-chat'],
  priceCatalogueId: 'openai',
  buildRequest(target: ProviderTarget, call: ClientCall): UpstreamRequest {
    const path = pathOf[call.api];
    if (!path) throw new Error(`openai adapter cannot serve ${call.api}`);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
    };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return { origin, path: `${pathPrefix}${path}`, headers };
  },
};
