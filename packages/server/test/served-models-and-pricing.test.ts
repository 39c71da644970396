import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usageEvents } from '../src/store/schema.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { eventually, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Issue 10: a credential serves only the models it really serves (an OpenAI-compatible base URL
 * claims nothing it does not list), and nothing is recorded at $0 by accident.
 */
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

async function provider(body: Record<string, unknown>): Promise<string> {
  const created = await server.admin('POST', '/providers', { apiKey: MOCK_UPSTREAM_API_KEY, ...body });
  return created.id as string;
}

let chains = 0;

/** A project whose own policy is the given chain (and options), and a key for it. */
async function keyFor(providerIds: string[], policy: Record<string, unknown> = {}) {
  chains += 1;
  const created = await server.admin('POST', '/routing-policies', {
    name: `chain ${chains}`,
    providers: providerIds,
    ...policy,
  });
  const project = await server.admin('POST', '/projects', {
    name: `served ${chains}`,
    routingPolicyId: created.id,
  });
  const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'served' });
  return { key: key.key as string, keyId: key.id as string };
}

async function blockBudgetOn(keyId: string): Promise<void> {
  await server.admin('POST', '/budgets', {
    scope: 'key',
    scopeId: keyId,
    limitUsd: 100,
    window: 'month',
    action: 'block',
  });
}

async function eventFor(keyId: string) {
  const rows = await eventually(
    async () => {
      await server.flushUsage();
      return server.gatehouse.storage.db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));
    },
    (found) => found.length > 0,
  );
  expect(rows).toHaveLength(1);
  return rows[0] as typeof usageEvents.$inferSelect;
}

function openAiClient(key: string) {
  return new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
}

function anthropicClient(key: string) {
  return new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
}

async function chatRaw(key: string, model: string) {
  return openAiClient(key)
    .chat.completions.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
}

describe('a credential serves only the models it really serves', () => {
  it('sends Claude to the Anthropic credential, not to an OpenAI base URL first in the chain, and prices it', async () => {
    // The README's quick start on a mock: the OpenAI credential has a base URL and no model list.
    const openAi = await provider({ name: 'qs-openai', type: 'openai', baseUrl: `${mock.url}/v1` });
    const anthropic = await provider({
      name: 'qs-anthropic',
      type: 'anthropic',
      baseUrl: mock.url,
      models: ['claude-sonnet-4-6', 'claude-haiku-4-5'],
    });
    const { key, keyId } = await keyFor([openAi, anthropic]);

    const { data, response } = await anthropicClient(key)
      .messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .withResponse();
    expect(data.content[0]?.type === 'text' && data.content[0].text).toBe('Hello from the mock upstream.');
    expect(response.headers.get('x-gatehouse-provider')).toBe('qs-anthropic');
    expect(mock.requests.map((request) => request.path)).toEqual(['/v1/messages']);

    const event = await eventFor(keyId);
    expect(event.providerId).toBe(anthropic);
    expect(event.costUsd).toBeGreaterThan(0);
    expect(event.priceSource).toBe('catalogue');
    expect(event.unpriced).toBe(false);
  });

  it('serves a model through a `claude-*` pattern, and lists concrete ids, never the pattern', async () => {
    const anthropic = await provider({
      name: 'pattern-anthropic',
      type: 'anthropic',
      baseUrl: mock.url,
      models: ['claude-*', 'my-exact-model'],
    });
    const { key } = await keyFor([anthropic], { modelAliases: { smart: 'claude-sonnet-4-6' } });

    const { response } = await anthropicClient(key)
      .messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .withResponse();
    expect(response.headers.get('x-gatehouse-provider')).toBe('pattern-anthropic');

    const listed = (await openAiClient(key).models.list()).data.map((model) => model.id);
    expect(listed.some((id) => id.includes('*'))).toBe(false);
    expect(listed).toEqual(
      expect.arrayContaining(['claude-sonnet-4-6', 'claude-haiku-4-5', 'my-exact-model', 'smart']),
    );
    expect(listed.every((id) => id.startsWith('claude') || id === 'my-exact-model' || id === 'smart')).toBe(
      true,
    );
  });

  it('answers an unknown model with a 404 that names what the key may use', async () => {
    const local = await provider({
      name: 'local-vllm',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      models: ['my-local-llama', 'my-local-qwen'],
    });
    const { key } = await keyFor([local]);
    const refused = await openAiClient(key)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    const error = refused as InstanceType<typeof OpenAI.NotFoundError>;
    expect(error.code).toBe('model_not_found');
    expect(error.message).toContain("No provider in this key's routing policy serves the model 'gpt-4o'");
    expect(error.message).toContain('my-local-llama, my-local-qwen');
    expect(mock.requests).toHaveLength(0);
  });

  it('caps the list of usable models in a 404 and says how many more there are', async () => {
    const many = Array.from({ length: 25 }, (_, index) => `local-model-${index}`);
    const local = await provider({
      name: 'many-models',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      models: many,
    });
    const { key } = await keyFor([local]);
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain('local-model-19 and 5 more.');
    expect(body.error.message).not.toContain('local-model-20');
  });
});

describe('nothing is free by accident', () => {
  let local: string;

  beforeAll(async () => {
    local = await provider({
      name: 'local-llama',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      models: ['my-local-llama'],
    });
  });

  it('refuses an unpriced model before dispatch when a block budget applies, naming the fix', async () => {
    const { key, keyId } = await keyFor([local]);
    await blockBudgetOn(keyId);
    const refused = await openAiClient(key)
      .chat.completions.create({ model: 'my-local-llama', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    const error = refused as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error.code).toBe('model_unpriced');
    expect(error.message).toContain("'my-local-llama'");
    expect(error.message).toContain('priceOverrides');
    expect(error.message).toContain('defaultPrice');
    expect(error.message).toContain("'local-llama'");
    expect(mock.requests).toHaveLength(0);

    // The same refusal in Anthropic's own shape for an Anthropic client.
    const refusedToo = await anthropicClient(key)
      .messages.create({
        model: 'my-local-llama',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .catch((caught: unknown) => caught);
    expect(refusedToo).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refusedToo as Error).message).toContain('defaultPrice');
    expect(mock.requests).toHaveLength(0);
  });

  it('serves an unpriced model without a block budget, marks the event unpriced and warns', async () => {
    const { key, keyId } = await keyFor([local]);
    const { data, response } = await chatRaw(key, 'my-local-llama');
    expect(data.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    expect(response.headers.get('x-gatehouse-warnings')).toContain('cost:unpriced');

    const event = await eventFor(keyId);
    expect(event.unpriced).toBe(true);
    expect(event.priceSource).toBe('unpriced');
    expect(event.costUsd).toBe(0);
    expect(event.inputTokens).toBeGreaterThan(0);
  });

  it('warns through a translated answer too', async () => {
    const { key } = await keyFor([local]);
    const { response } = await anthropicClient(key)
      .messages.create({
        model: 'my-local-llama',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .withResponse();
    expect(response.headers.get('x-gatehouse-warnings')).toContain('cost:unpriced');
  });

  it("prices the model at the credential's defaultPrice, under a block budget too", async () => {
    const priced = await provider({
      name: 'local-llama-priced',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      models: ['my-local-llama'],
      defaultPrice: { inputPerMTok: 1, outputPerMTok: 2 },
    });
    const shown = await server.admin('GET', `/providers/${priced}`);
    expect(shown.defaultPrice).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });

    const { key, keyId } = await keyFor([priced]);
    await blockBudgetOn(keyId);
    mock.enqueue({ usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 } });
    const { response } = await chatRaw(key, 'my-local-llama');
    expect(response.headers.get('x-gatehouse-warnings')).toBeNull();

    const event = await eventFor(keyId);
    expect(event.unpriced).toBe(false);
    expect(event.priceSource).toBe('default');
    expect(event.costUsd).toBeCloseTo(3, 6);
  });

  it('lets a per-model override win over the default price', async () => {
    const priced = await provider({
      name: 'local-llama-override',
      type: 'openai',
      baseUrl: `${mock.url}/v1`,
      models: ['my-local-llama'],
      priceOverrides: { 'my-local-llama': { inputPerMTok: 10, outputPerMTok: 10 } },
      defaultPrice: { inputPerMTok: 1, outputPerMTok: 2 },
    });
    const { key, keyId } = await keyFor([priced]);
    mock.enqueue({ usage: { inputTokens: 1_000_000, outputTokens: 0 } });
    await chatRaw(key, 'my-local-llama');
    const event = await eventFor(keyId);
    expect(event.priceSource).toBe('override');
    expect(event.costUsd).toBeCloseTo(10, 6);
  });
});
