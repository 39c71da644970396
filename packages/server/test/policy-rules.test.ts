import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/** Allow and deny lists, same-credential retries and per-attempt timeouts. */
let mock: MockUpstream;
let slow: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  mock = await startMockUpstream();
  slow = await startMockUpstream();
  server = await startTestGatehouse({
    GATEHOUSE_UPSTREAM_RETRIES: '1',
    GATEHOUSE_UPSTREAM_HEADERS_TIMEOUT_MS: '400',
  });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
  await slow?.close();
});
beforeEach(() => {
  mock.reset();
  slow.reset();
});

async function keyFor(policy: Record<string, unknown>, providers: { name: string; url: string }[]) {
  const ids: string[] = [];
  for (const provider of providers) {
    const created = await server.admin('POST', '/providers', {
      name: provider.name,
      type: 'openai',
      baseUrl: `${provider.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o', 'gpt-4o-mini', 'o3'],
    });
    ids.push(created.id);
  }
  // Policies and projects are told apart by name: one per set of providers.
  const name = `rules ${ids.join(' ')}`;
  const created = await server.admin('POST', '/routing-policies', { name, providers: ids, ...policy });
  const project = await server.admin('POST', '/projects', { name, routingPolicyId: created.id });
  return (await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'rules' }))
    .key as string;
}

describe('allow and deny lists', () => {
  it('refuses a model outside the allow list with 403 in each dialect, and lists only allowed models', async () => {
    const key = await keyFor({ allowedModels: ['gpt-4o*'], modelAliases: { fast: 'gpt-4o-mini' } }, [
      { name: 'allow', url: mock.url },
    ]);
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const refused = await openai.chat.completions
      .create({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed');

    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const refusedToo = await anthropic.messages
      .create({ model: 'o3', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(refusedToo).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(mock.requests).toHaveLength(0);

    const allowed = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(allowed.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    const listed = (await openai.models.list()).data.map((model) => model.id).sort();
    expect(listed).toEqual(['fast', 'gpt-4o', 'gpt-4o-mini']);
  });

  it('denies a model even through an alias', async () => {
    const key = await keyFor({ deniedModels: ['gpt-4o'], modelAliases: { best: 'gpt-4o' } }, [
      { name: 'deny', url: mock.url },
    ]);
    for (const model of ['gpt-4o', 'best']) {
      const response = await fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(403);
    }
    expect(mock.requests).toHaveLength(0);
  });
});

describe('retries and timeouts', () => {
  it('retries the last credential once after a short retry-after, then succeeds', async () => {
    const key = await keyFor({}, [{ name: 'retry', url: mock.url }]);
    mock.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(mock.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('returns a long retry-after to the client at once instead of waiting', async () => {
    const key = await keyFor({}, [{ name: 'no-retry', url: mock.url }]);
    mock.enqueue({ status: 429, headers: { 'retry-after': '30' } });
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(mock.requests).toHaveLength(1);
  });

  it('falls back when a credential sends no headers within the per-attempt timeout', async () => {
    const key = await keyFor({}, [
      { name: 'slow', url: slow.url },
      { name: 'quick', url: mock.url },
    ]);
    slow.enqueue({ firstByteDelayMs: 3_000 });
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gatehouse-provider')).toBe('quick');
  });
});
