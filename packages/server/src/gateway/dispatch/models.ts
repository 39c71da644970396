import { catalogueModels, type Dialect, matchesModelPattern } from '@gatehouse/core';
import type { EffectivePolicy } from '../auth/authenticator.js';
import { adapterFor } from '../providers/registry.js';
import type { ProviderTarget } from '../providers/types.js';
import { isModelAllowed } from './model-access.js';

/**
 * Concrete model ids the key's policy can reach, never a raw pattern: each credential's exact
 * ids and the catalogue's models of its vendor that its patterns match (or, without a list,
 * the vendor's catalogued models it serves), then the aliases; all filtered by allow and deny.
 */
export function modelsForPolicy(policy: EffectivePolicy): { id: string; ownedBy: string }[] {
  const seen = new Map<string, string>();
  for (const provider of policy.providers) {
    for (const model of servedModelIds(provider)) if (!seen.has(model)) seen.set(model, provider.type);
  }
  for (const alias of Object.keys(policy.modelAliases)) if (!seen.has(alias)) seen.set(alias, 'gatehouse');
  return [...seen]
    .filter(([id]) => isModelAllowed(policy, id, policy.modelAliases[id] ?? id))
    .map(([id, ownedBy]) => ({ id, ownedBy }));
}

function servedModelIds(provider: ProviderTarget): string[] {
  const adapter = adapterFor(provider.type);
  const catalogued = adapter ? catalogueModels(adapter.priceCatalogueId) : [];
  if (!provider.models) {
    if (!adapter) return [];
    const own = adapter.ownModels?.(provider) ?? [];
    return [...own, ...catalogued.filter((model) => adapter.servesModel(provider, model))];
  }
  const { exact, patterns } = provider.models;
  const matched = catalogued.filter((model) =>
    patterns.some((pattern) => matchesModelPattern(pattern, model)),
  );
  return [...exact, ...matched];
}

/**
 * The list in the shape the asking SDK parses: Anthropic's (Claude Code asks with
 * `anthropic-version`: `dialectFromAnthropicVersion`), OpenAI's otherwise.
 * @see https://platform.openai.com/docs/api-reference/models/list
 * @see https://docs.anthropic.com/en/api/models-list
 */
export function renderModelList(dialect: Dialect, models: { id: string; ownedBy: string }[]): unknown {
  if (dialect === 'anthropic') {
    return {
      data: models.map((model) => ({
        type: 'model',
        id: model.id,
        display_name: model.id,
        created_at: '1970-01-01T00:00:00Z',
      })),
      has_more: false,
      first_id: models[0]?.id ?? null,
      last_id: models.at(-1)?.id ?? null,
    };
  }
  return {
    object: 'list',
    data: models.map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: model.ownedBy })),
  };
}
