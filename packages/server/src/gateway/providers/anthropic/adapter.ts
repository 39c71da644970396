import type { ApiKind } from '@gatehouse/core';
import {
  type ClientCall,
  firstHeader,
  type ProviderAdapter,
  type ProviderTarget,
  queryWithoutKey,
  splitBaseUrl,
  type UpstreamRequest,
} from '../types.js';

/** @see https://docs.anthropic.com/en/api/messages */
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Sent only when the client named no version; clients that do are forwarded verbatim. */
const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

const pathOf: Partial<Record<ApiKind, string>> = {
  'anthropic-messages': '/v1/messages',
};

/** Anthropic's Messages API: `x-api-key`, `anthropic-version` and `anthropic-beta` headers. */
export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',
  nativeApis: ['anthropic-messages'],
  priceCatalogueId: 'anthropic',
  buildRequest(target: ProviderTarget, call: ClientCall): UpstreamRequest {
    const path = pathOf[call.api];
    if (!path) throw new Error(`anthropic adapter cannot serve ${call.api}`);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      'anthropic-version': firstHeader(call.headers['anthropic-version']) ?? DEFAULT_ANTHROPIC_VERSION,
    };
    const beta = call.headers['anthropic-beta'];
    if (beta !== undefined) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta;
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { origin, path: `${pathPrefix}${path}${queryWithoutKey(call.search)}`, headers };
  },
};
