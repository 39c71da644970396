import {
  costAtPrice,
  costOf,
  isCatalogued,
  type ModelPrice,
  type TranslationWarning,
  type Usage,
} from '@gatehouse/core';
import type { ProviderAdapter, ProviderTarget } from '../providers/types.js';

/**
 * How a model is priced on one credential, decided in one place for both the budget estimate
 * before dispatch and the metered cost after it, so the two never disagree about a model.
 */
export type Pricing =
  | { source: 'override' | 'default'; price: ModelPrice }
  | { source: 'catalogue'; catalogueModel: string; catalogueProviderId: string }
  | { source: 'unpriced' };

/**
 * The credential's override for the model (under the name asked for or the one that answered),
 * else the catalogue's price (the answering name is the more exact), else the credential's
 * `defaultPrice`, else `unpriced`: a cost that is unknown, which is never the same as free.
 */
export function priceFor(
  candidate: { target: ProviderTarget; adapter: Pick<ProviderAdapter, 'priceCatalogueId'> },
  model: string,
  answeredModel: string = model,
): Pricing {
  const { target, adapter } = candidate;
  // An override names the model as the admin knows it, so it wins under either name.
  const override = ownPrice(target.priceOverrides, model) ?? ownPrice(target.priceOverrides, answeredModel);
  if (override) return { source: 'override', price: override };
  for (const name of answeredModel === model ? [model] : [answeredModel, model]) {
    if (isCatalogued(name, adapter.priceCatalogueId)) {
      return { source: 'catalogue', catalogueModel: name, catalogueProviderId: adapter.priceCatalogueId };
    }
  }
  if (target.defaultPrice) return { source: 'default', price: target.defaultPrice };
  return { source: 'unpriced' };
}

/** What the usage costs under a pricing decision; 0 for `unpriced`, which the event marks. */
export function costUnder(pricing: Pricing, usage: Usage): number {
  switch (pricing.source) {
    case 'override':
    case 'default':
      return costAtPrice(usage, pricing.price);
    case 'catalogue':
      return costOf(usage, pricing.catalogueModel, pricing.catalogueProviderId).costUsd;
    case 'unpriced':
      return 0;
  }
}

function ownPrice(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice | undefined {
  // `hasOwn` so a model named e.g. "constructor" never picks up Object.prototype.
  return Object.hasOwn(prices, model) ? prices[model] : undefined;
}

/** The setting that gives a model a price, for the messages that ask an admin to set one. */
export function unpricedAdvice(model: string, credentialName: string): string {
  return `Set a price for '${model}' on the provider credential '${credentialName}': an entry in its priceOverrides, or its defaultPrice.`;
}

/**
 * What the response says when the call was served without a price: its cost was recorded as
 * unknown. Said through the same header (and format) as translation's warnings.
 */
export const UNPRICED_WARNING: TranslationWarning = { kind: 'approximated', feature: 'cost:unpriced' };
