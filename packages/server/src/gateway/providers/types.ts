import type { ApiKind, ModelList, TranslationWarning, WireDialect, WireEvent } from '@gatehouse/core';
import type { ProviderSecret } from '../../store/providers.js';
import type { PriceOverride, ProviderType } from '../../store/schema.js';

/** A provider credential as the gateway holds it in memory: decrypted, ready to call. */
export interface ProviderTarget {
  id: string;
  name: string;
  type: ProviderType;
  /** The credential's base URL, or undefined for the provider's public endpoint. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  /** Every secret field of the credential (API key, AWS keys, service account JSON), decrypted. */
  secret: Readonly<ProviderSecret>;
  /** Type-specific settings that are not secret (region, project, API version, deployments). */
  settings: Readonly<Record<string, unknown>>;
  /** Send the caller's signed identity to this upstream (it is trusted to see it). */
  forwardIdentity: boolean;
  /**
   * Models this credential serves (exact ids and `*` patterns); undefined leaves it to the
   * adapter's `servesModel`.
   */
  models: ModelList | undefined;
  priceOverrides: Readonly<Record<string, PriceOverride>>;
  /** The price of a model that neither an override nor the catalogue prices. */
  defaultPrice?: Readonly<PriceOverride> | undefined;
}

/** One call to a provider, as the pipeline hands it to the provider's adapter. */
export interface UpstreamCall {
  /** The API the client called. */
  api: ApiKind;
  /** The wire dialect the provider is spoken to in: the client's own API, or a translation target. */
  dialect: ProviderDialect;
  /** The model to ask for, after aliases. */
  model: string;
  stream: boolean;
  /** The query string of the client's URL, including `?`, or ''. */
  search: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body for the provider, already in its dialect. */
  body: Buffer;
}

/** A request ready for the wire: where it goes, with which headers (auth included) and body. */
export interface UpstreamRequest {
  origin: string;
  path: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** What the provider cannot take and was left out (e.g. Anthropic betas it does not offer). */
  warnings?: TranslationWarning[];
}

/** What a provider can be spoken to in: a client API passed through, or a translation dialect. */
export type ProviderDialect = ApiKind | WireDialect;

/**
 * Everything provider-specific about calling one provider: URLs, auth, signing, stream framing.
 * Nothing outside a provider's folder knows these, and no shared code branches on a provider.
 */
export interface ProviderAdapter {
  readonly type: ProviderType;
  /** The client APIs this provider speaks natively: such calls pass through byte for byte. */
  readonly nativeApis: readonly ApiKind[];
  /**
   * Narrows `nativeApis` per model, for providers that host several families behind one API
   * (Vertex serves Gemini natively but Claude only through Anthropic's dialect).
   */
  isNativeFor?(api: ApiKind, model: string): boolean;
  /** The price catalogue's provider id, for cost. */
  readonly priceCatalogueId: string;
  /**
   * Whether a credential without an explicit model list serves this model: its own vendor's
   * models only (the adapter's id patterns and what the price catalogue lists for the vendor),
   * so a Claude model is never sent to OpenAI's endpoint and no fallback attempt is spent on it.
   * Where a custom base URL means "some compatible server" (openai, anthropic, gemini: vLLM,
   * Ollama, a proxy) nothing is assumed: such a credential serves only the models it lists.
   */
  servesModel(target: ProviderTarget, model: string): boolean;
  /**
   * Models a credential without a list serves that the catalogue may not name (Azure's
   * deployment map), so `/v1/models` can list them.
   */
  ownModels?(target: ProviderTarget): readonly string[];
  /**
   * The dialect to translate a call into for this model when the client's API is not native;
   * undefined when this provider cannot serve the model through translation.
   */
  translationDialect(model: string): WireDialect | undefined;
  /** URL, auth and signing for one call. May be async (OAuth tokens, request signing). */
  buildRequest(target: ProviderTarget, call: UpstreamCall): UpstreamRequest | Promise<UpstreamRequest>;
  /**
   * Splits a streamed body into wire events when the provider does not frame with SSE (Bedrock's
   * AWS event-stream). Undefined means SSE. `dialect` is what the call was spoken in, so in-stream
   * errors come out the way that dialect's stream parser reads them.
   */
  createStreamDecoder?(dialect?: ProviderDialect): (chunk: Uint8Array) => WireEvent[];
}

const splitBaseUrls = new Map<string, { origin: string; pathPrefix: string }>();

/**
 * Splits a base URL into the origin a connection pool is keyed on and the path prefix. Memoised:
 * it runs on every request, and a deployment has a handful of base URLs.
 */
export function splitBaseUrl(baseUrl: string): { origin: string; pathPrefix: string } {
  let split = splitBaseUrls.get(baseUrl);
  if (!split) {
    const url = new URL(baseUrl);
    split = { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
    if (splitBaseUrls.size > 1_000) splitBaseUrls.clear();
    splitBaseUrls.set(baseUrl, split);
  }
  return split;
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The client's query string minus the gateway key (`?key=` is one of the places a client may put
 * it): the rest (Claude Code's `?beta=true`) goes upstream as it came.
 */
export function queryWithoutKey(search: string): string {
  if (search === '' || !/[?&]key=/.test(search)) return search;
  const params = new URLSearchParams(search);
  params.delete('key');
  const rest = params.toString();
  return rest === '' ? '' : `?${rest}`;
}

/** The comma-separated `anthropic-beta` header as a list. */
export function requestedBetas(header: string | string[] | undefined): string[] {
  return (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => beta !== '');
}

/** A warning per Anthropic beta a provider does not offer and that was therefore left out. */
export function droppedBetaWarnings(dropped: readonly string[]): TranslationWarning[] {
  return dropped.map((beta) => ({ kind: 'dropped', feature: `anthropic-beta:${beta}` }));
}
