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

/** @see https://ai.google.dev/api#endpoints */
const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/** Google's own endpoint serves only Google's models. */
function isGoogleModel(model: string): boolean {
  return model.startsWith('gemini') || model.startsWith('gemma');
}

/**
 * The method after `models/{model}:`.
 * @see https://ai.google.dev/api/generate-content
 * @see https://ai.google.dev/api/tokens#method:-models.counttokens
 */
function methodOf(call: UpstreamCall): string {
  switch (call.dialect as ProviderDialect) {
    case 'gemini-count-tokens':
      return 'countTokens';
    case 'gemini':
    case 'gemini-generate':
      return call.stream ? 'streamGenerateContent' : 'generateContent';
    default:
      throw new Error(`gemini adapter cannot speak ${call.dialect}`);
  }
}

/**
 * The query for the provider: the client's own parameters pass through on a native call, minus
 * the gateway key (`?key=`) and `alt`. Streams are always asked for as SSE, which the gateway's
 * stream parsers read; a client that wanted Google's JSON-array framing gets it re-rendered.
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export function upstreamQuery(call: UpstreamCall): string {
  const params = new URLSearchParams(call.api === call.dialect ? call.search : '');
  params.delete('key');
  params.delete('alt');
  if (call.stream && call.dialect !== 'gemini-count-tokens') params.set('alt', 'sse');
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

/**
 * Google AI Studio's Gemini API: `{base}/v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse` and `:countTokens`, authenticated with `x-goog-api-key` (never
 * `?key=`, which would put the provider key in URLs that proxies log). Gemini clients pass
 * through byte for byte; other dialects' clients reach it translated to `generateContent`.
 * @see https://ai.google.dev/gemini-api/docs/api-key#provide-api-key-explicitly
 */
export const geminiAdapter: ProviderAdapter = {
  type: 'gemini',
  description: "Google AI Studio's Gemini API",
  credential: { settings: noSettings, secrets: apiKeySecrets },
  nativeApis: ['gemini-generate', 'gemini-count-tokens'],
  priceCatalogueId: 'google',
  // A server at another base URL (a proxy that may route anywhere) serves only the models it lists.
  servesModel: (target, model) => target.baseUrl === undefined && isGoogleModel(model),
  translationDialect: () => 'gemini',
  requestWarnings: betasDroppedOutsideAnthropic,
  buildRequest(target: ProviderTarget, call: UpstreamCall): UpstreamRequest {
    const method = methodOf(call);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
    };
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    const path = `${pathPrefix}/v1beta/models/${encodeURIComponent(call.model)}:${method}${upstreamQuery(call)}`;
    return { origin, path, method: 'POST', headers, body: call.body };
  },
  /** @see https://ai.google.dev/api/models#method:-models.list */
  connectionProbe(target: ProviderTarget): UpstreamRequest {
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? DEFAULT_BASE_URL);
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    return {
      origin,
      path: `${pathPrefix}/v1beta/models?pageSize=1`,
      method: 'GET',
      headers,
      body: undefined,
    };
  },
};
