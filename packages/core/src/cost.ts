/**
 * Cost in USD from neutral {@link Usage}, priced from the bundled `@pydantic/genai-prices`
 * catalogue unless an operator override names the model.
 *
 * The catalogue is the data shipped inside the installed package: this module never calls the
 * library's `updatePrices` (its only remote fetch path), so pricing is synchronous, offline and
 * reproducible for a given release. Newer prices arrive by upgrading the package, or at once
 * through overrides.
 * @see https://github.com/pydantic/genai-prices
 */
import { type Usage as CatalogueUsage, calcPrice, findProvider, type Provider } from '@pydantic/genai-prices';
import type { Usage } from './usage.js';

/** An operator's own price for a model, in USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Defaults to the input price: without a cache discount, reads cost what uncached input costs. */
  cacheReadPerMTok?: number;
  /** Defaults to the input price. */
  cacheWritePerMTok?: number;
}

export interface CostResult {
  costUsd: number;
  /**
   * Where the price came from: a per-model override, the catalogue, the credential's default
   * price, or `unpriced`, which means the cost is unknown, not free.
   */
  source: 'override' | 'catalogue' | 'default' | 'unpriced';
}

/**
 * Catalogue lookups resolved once per (provider, model): the library otherwise scans a
 * provider's whole model list (and compiles match regexes) on every call. Each entry is a
 * one-model provider whose model matches the requested id exactly; `null` caches "not in the
 * catalogue". Model ids come from callers, so the cache is bounded and simply restarts when full.
 */
const resolvedProviders = new Map<string, Provider | null>();
const MAX_RESOLVED = 2048;

function resolveCatalogueEntry(model: string, providerId: string): Provider | null {
  const cacheKey = `${providerId}\u0000${model}`;
  const cached = resolvedProviders.get(cacheKey);
  if (cached !== undefined) return cached;
  let entry: Provider | null = null;
  try {
    const probe = calcPrice({ input_tokens: 0 }, model, { providerId });
    if (probe) {
      // `equals` on the lower-cased id: the library lower-cases and trims model ids before matching.
      const modelInfo = { ...probe.model, match: { equals: model.toLowerCase().trim() } };
      entry = { ...probe.provider, models: [modelInfo], fallback_model_providers: [] };
    }
  } catch {
    entry = null;
  }
  if (resolvedProviders.size >= MAX_RESOLVED) resolvedProviders.clear();
  resolvedProviders.set(cacheKey, entry);
  return entry;
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The catalogue's usage keys: `input_tokens` counts every input token including cached ones
 * (the library prices the uncached remainder at the input rate), and `output_tokens` includes
 * reasoning. Inconsistent parts are reconciled upward so the library never rejects them.
 */
function toCatalogueUsage(usage: Usage): CatalogueUsage {
  const cacheRead = nonNegative(usage.input.cacheRead);
  const cacheWrite = nonNegative(usage.input.cacheWrite);
  const inputTotal = Math.max(
    nonNegative(usage.input.total),
    nonNegative(usage.input.noCache) + cacheRead + cacheWrite,
  );
  const outputTotal = Math.max(
    nonNegative(usage.output.total),
    nonNegative(usage.output.text) + nonNegative(usage.output.reasoning),
  );
  return {
    input_tokens: inputTotal,
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    output_tokens: outputTotal,
    output_reasoning_tokens: Math.min(nonNegative(usage.output.reasoning), outputTotal),
  };
}

function overrideFor(
  overrides: ReadonlyMap<string, ModelPrice> | Record<string, ModelPrice> | undefined,
  model: string,
): ModelPrice | undefined {
  if (!overrides) return undefined;
  if (overrides instanceof Map) return overrides.get(model);
  const record = overrides as Record<string, ModelPrice>;
  // `hasOwn` so a model named e.g. "constructor" never picks up Object.prototype.
  return Object.hasOwn(record, model) ? record[model] : undefined;
}

/**
 * Whether the catalogue has a price for the model under this provider (or its fallbacks).
 * `providerId` is always the catalogue's own id: each provider adapter names its own
 * (`priceCatalogueId`), so nothing here knows Gatehouse's provider types.
 */
export function isCatalogued(model: string, providerId: string): boolean {
  return resolveCatalogueEntry(model, providerId) !== null;
}

const catalogueModelLists = new Map<string, readonly string[]>();

/**
 * The model ids the catalogue lists for one provider itself (not the providers it falls back
 * to), for naming concrete models where an operator wrote a pattern. Deprecated models and ids
 * the catalogue keeps only as prefixes (`ft:gpt-3.5-turbo-`) are left out: no client asks for them.
 */
export function catalogueModels(providerId: string): readonly string[] {
  let models = catalogueModelLists.get(providerId);
  if (!models) {
    const provider = findProvider({ providerId });
    models = (provider?.models ?? [])
      .filter((model) => model.deprecated !== true)
      .map((model) => model.id)
      .filter((id) => /^[a-z0-9][\w.:@/-]*[a-z0-9]$/i.test(id));
    catalogueModelLists.set(providerId, models);
  }
  return models;
}

/** What the usage costs at an operator's own price. */
export function costAtPrice(usage: Usage, price: ModelPrice): number {
  return costFromOverride(usage, price);
}

function costFromOverride(usage: Usage, price: ModelPrice): number {
  const noCache = Math.max(
    nonNegative(usage.input.noCache),
    nonNegative(usage.input.total) - nonNegative(usage.input.cacheRead) - nonNegative(usage.input.cacheWrite),
  );
  const micro =
    noCache * price.inputPerMTok +
    nonNegative(usage.input.cacheRead) * (price.cacheReadPerMTok ?? price.inputPerMTok) +
    nonNegative(usage.input.cacheWrite) * (price.cacheWritePerMTok ?? price.inputPerMTok) +
    nonNegative(usage.output.total) * price.outputPerMTok;
  return micro / 1_000_000;
}

/**
 * What a request cost. Overrides (keyed by the exact model id) win over the catalogue; a model
 * neither knows is `unpriced` at 0 USD so metering still records its tokens. Synchronous and
 * cheap after the first call per model: it runs once per request on the hot path.
 */
export function costOf(
  usage: Usage,
  model: string,
  providerId: string,
  overrides?: ReadonlyMap<string, ModelPrice> | Record<string, ModelPrice>,
): CostResult {
  const override = overrideFor(overrides, model);
  if (override) return { costUsd: costFromOverride(usage, override), source: 'override' };
  const provider = resolveCatalogueEntry(model, providerId);
  if (!provider) return { costUsd: 0, source: 'unpriced' };
  try {
    const result = calcPrice(toCatalogueUsage(usage), model, { provider });
    if (result && Number.isFinite(result.total_price))
      return { costUsd: result.total_price, source: 'catalogue' };
  } catch {
    // Malformed catalogue entry for this model: unpriced rather than a failed request.
  }
  return { costUsd: 0, source: 'unpriced' };
}
