import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN, type QuickStartGateway, startQuickStartGateway } from './support/harness.js';

/**
 * `GET /api/admin/routing-policies/preview`: what the gateway's resolver would do with a model.
 * Every case is checked against a real call through the gateway with the same key.
 */

let gateway: QuickStartGateway;
beforeAll(async () => {
  gateway = await startQuickStartGateway();
});
afterAll(async () => {
  await gateway?.close();
});
beforeEach(() => gateway.mock.reset());

async function preview(query: Record<string, string>) {
  const response = await fetch(
    `${gateway.server.url}/api/admin/routing-policies/preview?${new URLSearchParams(query)}`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
  );
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the fields it asserts.
  return { status: response.status, body: (await response.json()) as any };
}

/** A real chat completion with the quick start's key: which credential answered, and the status. */
async function call(model: string): Promise<{ status: number; servedBy: string | null }> {
  const response = await fetch(`${gateway.server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.setup.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return { status: response.status, servedBy: response.headers.get('x-gatehouse-provider') };
}

const tried = (body: { chain: { name: string; tryOrder: number | null }[] }) =>
  body.chain.filter((step) => step.tryOrder !== null).map((step) => step.name);

describe('the routing preview', () => {
  it('names the default policy and the credential that serves a model, like a real call', async () => {
    const { status, body } = await preview({ model: 'gpt-4o-mini', projectId: gateway.setup.projectId });
    expect(status).toBe(200);
    expect(body.policy).toEqual({ id: gateway.setup.policyId, name: 'default', source: 'default' });
    expect(body).toMatchObject({
      requestedModel: 'gpt-4o-mini',
      model: 'gpt-4o-mini',
      allowed: true,
      refusal: null,
    });
    expect(body.chain).toEqual([
      expect.objectContaining({
        name: 'mock-openai',
        tryOrder: 1,
        skipped: null,
        translated: false,
        dialect: 'openai-chat',
      }),
      expect.objectContaining({ name: 'mock-anthropic', tryOrder: null, skipped: 'model_not_served' }),
    ]);
    expect(await call('gpt-4o-mini')).toEqual({ status: 200, servedBy: 'mock-openai' });
  });

  it('follows aliases and the deny list as calls do', async () => {
    const { policyId } = gateway.setup;
    await gateway.server.admin('PATCH', `/routing-policies/${policyId}`, {
      modelAliases: { fast: 'claude-haiku-4-5' },
      deniedModels: ['gpt-4o'],
    });
    const aliased = (await preview({ model: 'fast' })).body;
    expect(aliased).toMatchObject({ model: 'claude-haiku-4-5', allowed: true, refusal: null });
    expect(aliased.chain[1]).toMatchObject({
      name: 'mock-anthropic',
      tryOrder: 1,
      translated: true,
      dialect: 'anthropic-messages',
    });
    expect(await call('fast')).toEqual({ status: 200, servedBy: 'mock-anthropic' });

    const denied = (await preview({ model: 'gpt-4o' })).body;
    expect(denied).toMatchObject({ allowed: false, refusal: { code: 'model_not_allowed' } });
    expect((await call('gpt-4o')).status).toBe(403);

    const unknown = (await preview({ model: 'llama-3' })).body;
    expect(unknown.refusal.code).toBe('model_not_found');
    expect(tried(unknown)).toEqual([]);
    expect((await call('llama-3')).status).toBe(404);
    await gateway.server.admin('PATCH', `/routing-policies/${policyId}`, {
      modelAliases: {},
      deniedModels: [],
    });
  });

  it('follows a reordered chain, and skips a credential whose circuit is open', async () => {
    const { policyId, openAiProviderId, anthropicProviderId } = gateway.setup;
    const second = await gateway.server.admin('POST', '/providers', {
      name: 'mock-openai-2',
      type: 'openai',
      baseUrl: `${gateway.mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o-mini'],
    });
    await gateway.server.admin('PATCH', `/routing-policies/${policyId}`, {
      providers: [second.id, openAiProviderId, anthropicProviderId],
    });
    expect(tried((await preview({ model: 'gpt-4o-mini' })).body)).toEqual(['mock-openai-2', 'mock-openai']);
    expect((await call('gpt-4o-mini')).servedBy).toBe('mock-openai-2');

    // Five failures in a row open the first credential's breaker; calls then skip it.
    for (let failure = 0; failure < 5; failure++) {
      gateway.mock.enqueue({ status: 500 });
      expect((await call('gpt-4o-mini')).servedBy).toBe('mock-openai');
    }
    const cooling = (await preview({ model: 'gpt-4o-mini' })).body;
    expect(cooling.chain[0]).toMatchObject({
      name: 'mock-openai-2',
      tryOrder: null,
      skipped: 'circuit_open',
    });
    expect(cooling.chain[0].retryInSeconds).toBeGreaterThan(0);
    expect(tried(cooling)).toEqual(['mock-openai']);
    gateway.mock.reset();
    expect(await call('gpt-4o-mini')).toEqual({ status: 200, servedBy: 'mock-openai' });
    expect(gateway.mock.requests).toHaveLength(1);
  });

  it('uses a project’s own policy, and answers bad input in the admin error shape', async () => {
    const { anthropicProviderId } = gateway.setup;
    const own = await gateway.server.admin('POST', '/routing-policies', {
      name: 'claude only',
      providers: [anthropicProviderId],
    });
    const project = await gateway.server.admin('POST', '/projects', {
      name: 'claude team',
      routingPolicyId: own.id,
    });
    const answer = (
      await preview({ model: 'claude-sonnet-4-6', projectId: project.id, api: 'anthropic-messages' })
    ).body;
    expect(answer.policy).toEqual({ id: own.id, name: 'claude only', source: 'project' });
    expect(answer.chain).toEqual([expect.objectContaining({ tryOrder: 1, translated: false })]);

    const missingProject = await preview({ model: 'gpt-4o', projectId: 'proj_nope' });
    expect(missingProject).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'project not found' } },
    });
    const badApi = await preview({ model: 'gpt-4o', api: 'smoke-signals' });
    expect(badApi.status).toBe(400);
    expect(badApi.body.error.message).toMatch(/api/);
    expect((await preview({})).status).toBe(400);
  });
});
