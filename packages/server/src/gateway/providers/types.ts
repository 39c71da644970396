import type { ApiKind } from '@gatehouse/core';
import type { PriceOverride, ProviderType } from '../../store/schema.js';

/** A provider credential as the gateway holds it in memory: decrypted, ready to call. */
export interface ProviderTarget {
  id: string;
  name: string;
  type: ProviderType;
  /** The credential's base URL, or undefined for the provider's public endpoint. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  /** Models this credential serves; undefined means any model its API accepts. */
  models: ReadonlySet<string> | undefined;
  priceOverrides: Readonly<Record<string, PriceOverride>>;
}

/** What the client sent, reduced to what a provider adapter may use. */
export interface ClientCall {
  api: ApiKind;
  /** The query string of the client's URL, including `?`, or ''. */
  search: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A request ready for the wire: where it goes and with which headers (auth included). */
export interface UpstreamRequest {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

/**
 * Everything provider-specific about calling one provider: URLs, auth and headers. Nothing
 * outside a provider's folder knows these.
 */
export interface ProviderAdapter {
  readonly type: ProviderType;
  /** The client APIs this provider speaks natively, so requests pass through untranslated. */
  readonly nativeApis: readonly ApiKind[];
  /** The price catalogue's provider id, for cost. */
  readonly priceCatalogueId: string;
  buildRequest(target: ProviderTarget, call: ClientCall): UpstreamRequest;
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
