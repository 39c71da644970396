import { emptyUsage, modelListOf } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { modelsForPolicy } from '../dispatch/models.js';
import type { RouteCandidate } from '../dispatch/routing.js';
import { anthropicAdapter } from '../providers/anthropic/adapter.js';
import { azureAdapter } from '../providers/azure/adapter.js';
import { openAiAdapter } from '../providers/openai/adapter.js';
import type { ProviderTarget } from '../providers/types.js';
import { meter } from './metering.js';
import { costUnder, priceFor } from './pricing.js';

function target(overrides: Partial<ProviderTarget> = {}): ProviderTarget {
  return {
    id: 'prov_1',
    name: 'local',
    type: 'openai',
    baseUrl: undefined,
    apiKey: 'key',
    secret: { apiKey: 'key' },
    settings: {},
    forwardIdentity: false,
    models: undefined,
    priceOverrides: {},
    ...overrides,
  };
}

function candidate(overrides: Partial<ProviderTarget> = {}): RouteCandidate {
  return { target: target(overrides), adapter: openAiAdapter, dialect: 'openai-chat', translated: false };
}

const MILLION_EACH = {
  input: { total: 1_000_000, noCache: 1_000_000, cacheRead: 0, cacheWrite: 0 },
  output: { total: 1_000_000, text: 1_000_000, reasoning: 0 },
};

describe('which models a credential without a list serves', () => {
  it("OpenAI's endpoint serves OpenAI's models only; a custom base URL serves none", () => {
    for (const model of ['gpt-4o', 'gpt-4.1-mini', 'o3', 'o4-mini', 'text-embedding-3-small', 'gpt-5']) {
      expect(openAiAdapter.servesModel(target(), model), model).toBe(true);
    }
    for (const model of ['claude-sonnet-4-6', 'gemini-2.5-pro', 'my-local-llama']) {
      expect(openAiAdapter.servesModel(target(), model), model).toBe(false);
    }
    const compatible = target({ baseUrl: 'http://localhost:8000/v1' });
    expect(openAiAdapter.servesModel(compatible, 'gpt-4o')).toBe(false);
    expect(openAiAdapter.servesModel(compatible, 'claude-sonnet-4-6')).toBe(false);
  });

  it("Anthropic's endpoint serves Claude; Azure without deployments serves OpenAI's models", () => {
    expect(anthropicAdapter.servesModel(target({ type: 'anthropic' }), 'claude-sonnet-4-6')).toBe(true);
    expect(anthropicAdapter.servesModel(target({ type: 'anthropic' }), 'gpt-4o')).toBe(false);
    const azure = target({ type: 'azure', baseUrl: 'https://res.openai.azure.com' });
    expect(azureAdapter.servesModel(azure, 'gpt-4o')).toBe(true);
    expect(azureAdapter.servesModel(azure, 'claude-sonnet-4-6')).toBe(false);
  });
});

describe('one price decision', () => {
  it('takes an override, else the catalogue, else the default price, else unpriced', () => {
    const price = { inputPerMTok: 1, outputPerMTok: 2 };
    expect(priceFor(candidate({ priceOverrides: { 'gpt-4o': price } }), 'gpt-4o').source).toBe('override');
    expect(priceFor(candidate(), 'gpt-4o').source).toBe('catalogue');
    expect(priceFor(candidate({ defaultPrice: price }), 'gpt-4o').source).toBe('catalogue');
    expect(priceFor(candidate({ defaultPrice: price }), 'my-local-llama').source).toBe('default');
    expect(priceFor(candidate(), 'my-local-llama').source).toBe('unpriced');
    // The answering model's catalogue price counts when the asked-for name has none.
    expect(priceFor(candidate(), 'my-alias-of-4o', 'gpt-4o')).toMatchObject({
      source: 'catalogue',
      catalogueModel: 'gpt-4o',
    });
  });

  it('costs the usage under the decision', () => {
    const price = { inputPerMTok: 1, outputPerMTok: 2 };
    expect(costUnder(priceFor(candidate({ defaultPrice: price }), 'x'), MILLION_EACH)).toBeCloseTo(3, 9);
    expect(costUnder(priceFor(candidate(), 'gpt-4o'), MILLION_EACH)).toBeGreaterThan(0);
    expect(costUnder({ source: 'unpriced' }, MILLION_EACH)).toBe(0);
  });
});

describe('metering an unpriced model', () => {
  it('marks the event unpriced and reports the model once, not per call', () => {
    const events: { unpriced?: boolean | undefined; priceSource?: string | null | undefined }[] = [];
    const ledger = { record: (event: (typeof events)[number]) => events.push(event) };
    const reported: { model: string; provider: string }[] = [];
    const servedBy = candidate({ id: 'prov_once', models: modelListOf(['my-local-llama']) });
    for (let call = 0; call < 3; call++) {
      meter(ledger as unknown as Parameters<typeof meter>[0], {
        requestId: `req_${call}`,
        api: 'openai-chat',
        identity: {
          keyId: 'key_1',
          organizationId: 'org_1',
          projectId: 'proj_1',
          teamId: undefined,
          principalId: 'key_1',
          personal: false,
          expiresAt: undefined,
          revokedAt: undefined,
          policy: {
            id: undefined,
            providers: [],
            modelAliases: {},
            allowedModels: undefined,
            deniedModels: [],
          },
        },
        model: 'my-local-llama',
        upstreamModel: undefined,
        servedBy,
        attempts: [],
        status: 200,
        errorCode: undefined,
        streamed: false,
        usage: emptyUsage(),
        usageReported: true,
        latencyMs: 1,
        firstByteMs: 1,
        receivedAt: new Date(),
        clientTool: null,
        reportUnpriced: (details) => reported.push(details),
      });
    }
    expect(events.map((event) => event.unpriced)).toEqual([true, true, true]);
    expect(events[0]?.priceSource).toBe('unpriced');
    expect(reported).toEqual([{ model: 'my-local-llama', provider: 'local' }]);
  });
});

describe('the models a policy lists', () => {
  it("names concrete ids: a pattern's catalogue matches, exact ids, Azure's deployments, never a pattern", () => {
    const policy = {
      id: 'pol_1',
      providers: [
        target({
          id: 'a',
          type: 'anthropic',
          baseUrl: 'http://proxy',
          models: modelListOf(['claude-opus-*', 'x-1']),
        }),
        target({
          id: 'b',
          type: 'azure',
          baseUrl: 'https://res',
          settings: { deployments: { 'my-gpt': 'd1' } },
        }),
        target({ id: 'c', baseUrl: 'http://localhost:8000/v1' }),
      ],
      modelAliases: {},
      allowedModels: undefined,
      deniedModels: ['claude-opus-4-0'],
    };
    const ids = modelsForPolicy(policy).map((entry) => entry.id);
    expect(ids).toEqual(expect.arrayContaining(['claude-opus-4-6', 'x-1', 'my-gpt']));
    expect(ids).not.toContain('claude-opus-4-0');
    expect(ids.some((id) => id.includes('*'))).toBe(false);
    expect(ids.some((id) => id.startsWith('claude-sonnet'))).toBe(false);
  });
});
