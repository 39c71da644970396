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
import { firstHeader, queryWithoutKey, splitBaseUrl } from '../types.js';

/** @see https://docs.anthropic.com/en/api/messages */
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Sent only when the client named no version; clients that do are forwarded verbatim. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

const pathOf: Partial<Record<ProviderDialect, string>> = {
  'anthropic-messages': '/v1/messages',
  'anthropic-count-tokens': '/v1/messages/count_tokens',
};

/** Anthropic's Messages API: `x-api-key`, `anthropic-version` and `anthropic-beta` headers. */
export const anthropicAdapter: ProviderAdapter = {
  type: 'anthropic',
  description: "Anthropic's Messages API, or a server at baseUrl that speaks it",
  credential: { settings: noSettings, secrets: apiKeySecrets },
  nativeApis: ['anthropic-messages', 'anthropic-count-tokens'],
  priceCatalogueId: 'anthropic',
  // Anthropic's endpoint serves Claude; a server at another base URL (a proxy that may route
  // anywhere) serves only the models it lists.
  servesModel: (target, model) =>
    target.baseUrl === undefined && (model.startsWith('claude') || isCatalogued(model, 'anthropic')),
  translationDialect: () => 'anthropic-messages',
  requestWarnings: betasDroppedOutsideAnthropic,
  buildRequest(target: ProviderTarget, call: UpstreamCall): UpstreamRequest {
    const path = pathOf[call.dialect];
    if (!path) throw new Error(`anthropic adapter cannot speak ${call.dialect}`);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      'anthropic-version': firstHeader(call.headers['anthropic-version']) ?? DEFAULT_ANTHROPIC_VERSION,
    };
    const beta = call.headers['anthropic-beta'];
    if (beta !== undefined) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta;
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    const query = call.api === call.dialect ? queryWithoutKey(call.search) : '';
    return { origin, path: `${pathPrefix}${path}${query}`, method: 'POST', headers, body: call.body };
  },
  /** @see https://docs.anthropic.com/en/api/models-list */
  connectionProbe(target: ProviderTarget): UpstreamRequest {
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'accept-encoding': 'identity',
      'anthropic-version': DEFAULT_ANTHROPIC_VERSION,
    };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { origin, path: `${pathPrefix}/v1/models?limit=1`, method: 'GET', headers, body: undefined };
  },
};
