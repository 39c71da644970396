import type { ApiKind, ModelList, TranslationWarning, WireDialect, WireEvent } from '@gatehouse/core';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
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

/**
 * How an adapter makes a call of its own before the provider's (Vertex's token request): through
 * the gateway's upstream client, so the outbound address rules and its timeouts hold for that call
 * as for the provider's.
 */
export interface UpstreamSender {
  send(request: UpstreamRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData>;
}

/**
 * A credential that cannot be made ready for a call (Vertex: no token could be minted). It is
 * that credential's failure, not the caller's: dispatch counts it against the credential's breaker
 * and tries the next one in the chain. The message names the credential and never a secret.
 */
export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
}

/** What a provider can be spoken to in: a client API passed through, or a translation dialect. */
export type ProviderDialect = ApiKind | WireDialect;

/** A credential as it would stand after a create or patch: what an adapter's own check reads. */
export interface StandingCredential {
  baseUrl: string | undefined;
  settings: Readonly<Record<string, unknown>>;
  secret: Readonly<ProviderSecret>;
}

/**
 * What a credential of one provider type holds beside the fields every credential has. Each field
 * of both schemas is a flat field of the admin API's create and patch bodies; a field that is not
 * optional is required; the descriptions are what the OpenAPI document and the CLI show.
 */
export interface ProviderCredentialShape {
  /** Settings that are not secret (region, API version, deployments): the credential's `settings`. */
  readonly settings: z.ZodObject;
  /** Secret fields (API key, AWS keys, service account key): sealed at rest, never returned. */
  readonly secrets: z.ZodObject;
  /** The credential cannot be called without a base URL (Azure's resource has no public default). */
  readonly baseUrlRequired?: boolean;
  /** What the schemas cannot say (Vertex: the key file's JSON): the problem, or undefined. */
  problem?(credential: StandingCredential): string | undefined;
  /**
   * URLs besides the base URL that the credential makes the gateway call (Vertex: the key file's
   * `token_uri`), each named as the admin API names it in a refusal; they are held to the outbound
   * address rules as the base URL is.
   */
  otherUrls?(credential: StandingCredential): ReadonlyArray<{ field: string; url: string }>;
}

/**
 * Everything provider-specific about calling one provider: what its credential holds, URLs, auth,
 * signing, stream framing, prices and warnings. Nothing outside a provider's folder knows these,
 * and no shared code branches on a provider: the admin API, the OpenAPI document and the gateway
 * read them from the registry (`registry.ts`).
 */
export interface ProviderAdapter {
  readonly type: ProviderType;
  /** One line naming the vendor API, for the OpenAPI document and the CLI's help. */
  readonly description: string;
  /** The fields a credential of this type has, validated and documented by the admin API. */
  readonly credential: ProviderCredentialShape;
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
  /**
   * The cheapest request that proves a credential works (listing models, or counting tokens where
   * the provider has no list): what "test the connection" sends. It must cost nothing or next to
   * nothing, and it goes out through the same upstream client, so the outbound address rules hold.
   * Async where the request needs a token or a signature first.
   */
  connectionProbe(
    target: ProviderTarget,
    upstream: UpstreamSender,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  /**
   * URL, auth and signing for one call. May be async (OAuth tokens, request signing); a call it
   * needs first goes through `upstream`, never a client of its own.
   */
  buildRequest(
    target: ProviderTarget,
    call: UpstreamCall,
    upstream: UpstreamSender,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  /**
   * Splits a streamed body into wire events when the provider does not frame with SSE (Bedrock's
   * AWS event-stream). Undefined means SSE. `dialect` is what the call was spoken in, so in-stream
   * errors come out the way that dialect's stream parser reads them.
   */
  createStreamDecoder?(dialect?: ProviderDialect): (chunk: Uint8Array) => WireEvent[];
  /**
   * The content type the provider streams in when it is not SSE (Bedrock's
   * `application/vnd.amazon.eventstream`), read with `createStreamDecoder`: an answer in it is
   * an API's answer, not a proxy's page.
   */
  readonly streamContentType?: string;
  /**
   * What the client asked for that this provider will not get, for a call spoken in `dialect`
   * (an `anthropic-beta` header on a call rendered in another dialect), echoed in
   * `x-gatehouse-warnings`. Warnings that depend on the built request come with it instead.
   */
  requestWarnings?(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    dialect: ProviderDialect,
  ): TranslationWarning[];
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
