import { GoogleGenAI, Type } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseModelAction } from '../src/gateway/http/gemini-routes.js';
import { azureAdapter } from '../src/gateway/providers/azure/adapter.js';
import { geminiAdapter } from '../src/gateway/providers/gemini/adapter.js';
import type { ProviderTarget, UpstreamCall } from '../src/gateway/providers/types.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  type RecordedRequest,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { DEFAULT_TEXT } from './mock-upstream/shared.js';
import { ADMIN_TOKEN, eventually, startTestGatehouse, type TestGatehouse } from './support/harness.js';

const GEMINI_MODEL = 'gemini-2.5-flash';
/** Used by the metering test alone, so its usage row holds exactly that test's calls. */
const GEMINI_METERED_MODEL = 'gemini-2.5-pro';
/** A model name that is not also a deployment name: the adapter must map it. */
const AZURE_MODEL = 'gpt-4o-mini';
const AZURE_DEPLOYMENT = 'prod-4o-mini';
const AZURE_EMBEDDING_MODEL = 'text-embedding-3-small';
/** Used by the metering test alone. */
const AZURE_METERED_MODEL = 'gpt-4o';
const AZURE_API_VERSION = '2024-10-21';

let mock: MockUpstream;
let server: TestGatehouse;
let projectId: string;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  const gemini = await server.admin('POST', '/providers', {
    name: 'mock-gemini',
    type: 'gemini',
    baseUrl: mock.url,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: [GEMINI_MODEL, GEMINI_METERED_MODEL],
  });
  // No model list: the deployment map decides what this credential serves.
  const azure = await server.admin('POST', '/providers', {
    name: 'mock-azure',
    type: 'azure',
    baseUrl: mock.url,
    apiKey: MOCK_UPSTREAM_API_KEY,
    apiVersion: AZURE_API_VERSION,
    deployments: {
      [AZURE_MODEL]: AZURE_DEPLOYMENT,
      [AZURE_METERED_MODEL]: 'prod-4o',
      [AZURE_EMBEDDING_MODEL]: 'embeddings-small',
    },
  });
  await server.admin('POST', '/routing-policies', {
    name: 'gemini and azure',
    providers: [gemini.id, azure.id],
    isDefault: true,
  });
  projectId = (await server.admin('POST', '/projects', { name: 'gemini and azure' })).id;
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

async function newKey(project = projectId): Promise<string> {
  return (await server.admin('POST', '/virtual-keys', { projectId: project, name: 'sdk' })).key;
}

function genAi(key: string): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: key,
    httpOptions: { baseUrl: `${server.url}/api`, retryOptions: { attempts: 1 } },
  });
}

function openAi(key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
}

/** The virtual key never leaves the gateway: not in a header, not in the URL. */
function expectNoVirtualKey(request: RecordedRequest, key: string): void {
  expect(request.path).not.toContain(key);
  expect(request.path).not.toMatch(/[?&]key=/);
  for (const value of Object.values(request.headers)) expect(String(value)).not.toContain(key);
}

/** The model's usage row once it counts `requests` calls. */
async function usageRow(model: string, requests: number) {
  const rows = await eventually(
    async () => {
      await server.flushUsage();
      return (await server.admin('GET', '/usage?groupBy=model')).rows as Record<string, number | string>[];
    },
    (found) => found.find((row) => row.group === model)?.requests === requests,
  );
  return rows.find((row) => row.group === model);
}

describe('Gemini clients through the gateway to Google AI Studio', () => {
  it('generates content with the official SDK, authenticated with the provider key only', async () => {
    const key = await newKey();
    mock.enqueue({ usage: { inputTokens: 21, outputTokens: 5 } });
    const response = await genAi(key).models.generateContent({ model: GEMINI_MODEL, contents: 'Say hello' });
    expect(response.text).toBe(DEFAULT_TEXT);
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: 21, candidatesTokenCount: 5 });

    expect(mock.requests).toHaveLength(1);
    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(`/v1beta/models/${GEMINI_MODEL}:generateContent`);
    expect(upstream.headers['x-goog-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expect(upstream.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Say hello' }] }]);
    expectNoVirtualKey(upstream, key);
  });

  it('streams with generateContentStream, asking the provider for SSE', async () => {
    const key = await newKey();
    mock.enqueue({
      text: 'Streaming from Gemini, word by word.',
      usage: { inputTokens: 13, outputTokens: 8 },
    });
    const stream = await genAi(key).models.generateContentStream({ model: GEMINI_MODEL, contents: 'Stream' });
    let text = '';
    let chunks = 0;
    let lastUsage: unknown;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.text ?? '';
      lastUsage = chunk.usageMetadata ?? lastUsage;
    }
    expect(text).toBe('Streaming from Gemini, word by word.');
    expect(chunks).toBeGreaterThan(1);
    expect(lastUsage).toMatchObject({ promptTokenCount: 13, candidatesTokenCount: 8 });

    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(`/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`);
    expect(upstream.headers['x-goog-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expectNoVirtualKey(upstream, key);
  });

  it('returns a function call, streamed and not', async () => {
    const key = await newKey();
    const toolCall = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
    mock.enqueue({ toolCall }, { toolCall });
    const config = {
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Current weather in a city',
              parameters: {
                type: Type.OBJECT,
                properties: { city: { type: Type.STRING }, unit: { type: Type.STRING } },
                required: ['city'],
              },
            },
          ],
        },
      ],
    };
    const client = genAi(key);
    const response = await client.models.generateContent({
      model: GEMINI_MODEL,
      contents: 'Weather in Paris?',
      config,
    });
    expect(response.functionCalls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } }),
    ]);
    expect(mock.requests[0]?.body.tools[0].functionDeclarations[0].name).toBe('get_weather');

    const stream = await client.models.generateContentStream({
      model: GEMINI_MODEL,
      contents: 'Weather in Paris?',
      config,
    });
    const calls = [];
    for await (const chunk of stream) calls.push(...(chunk.functionCalls ?? []));
    expect(calls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } }),
    ]);
  });

  it('counts tokens', async () => {
    const key = await newKey();
    const result = await genAi(key).models.countTokens({
      model: GEMINI_MODEL,
      contents: 'How many tokens is this?',
    });
    expect(result.totalTokens).toBeGreaterThan(0);
    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(`/v1beta/models/${GEMINI_MODEL}:countTokens`);
    expect(upstream.headers['x-goog-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expectNoVirtualKey(upstream, key);
  });

  it('meters usageMetadata of plain and streamed answers', async () => {
    const key = await newKey();
    mock.enqueue(
      { usage: { inputTokens: 1000, outputTokens: 100 } },
      { usage: { inputTokens: 2000, outputTokens: 200 } },
    );
    const client = genAi(key);
    await client.models.generateContent({ model: GEMINI_METERED_MODEL, contents: 'plain' });
    for await (const _chunk of await client.models.generateContentStream({
      model: GEMINI_METERED_MODEL,
      contents: 'streamed',
    })) {
      // drain
    }
    const row = await usageRow(GEMINI_METERED_MODEL, 2);
    expect(row).toMatchObject({ requests: 2, inputTokens: 3000, outputTokens: 300 });
    expect(Number(row?.costUsd)).toBeGreaterThan(0);
  });

  it('takes the key from ?key= and never forwards it', async () => {
    const key = await newKey();
    const response = await fetch(
      `${server.url}/api/v1beta/models/${GEMINI_MODEL}:generateContent?key=${encodeURIComponent(key)}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      },
    );
    expect(response.status).toBe(200);
    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(`/v1beta/models/${GEMINI_MODEL}:generateContent`);
    expect(upstream.headers['x-goog-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expectNoVirtualKey(upstream, key);
  });

  it('answers a stream asked for without alt=sse as the JSON array Google sends', async () => {
    const key = await newKey();
    mock.enqueue({ text: 'Array framing please.', usage: { inputTokens: 9, outputTokens: 4 } });
    const response = await fetch(`${server.url}/v1beta/models/${GEMINI_MODEL}:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const chunks = JSON.parse(await response.text()) as {
      candidates?: { content?: { parts?: { text?: string }[] } }[];
    }[];
    expect(Array.isArray(chunks)).toBe(true);
    const text = chunks
      .flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? [])
      .map((part) => part.text ?? '')
      .join('');
    expect(text).toBe('Array framing please.');
    expect(mock.requests[0]?.path).toBe(`/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`);
  });

  it('lists the models a key reaches in the Gemini shape', async () => {
    const key = await newKey();
    const pager = await genAi(key).models.list();
    const names = [];
    for await (const model of pager) names.push(model.name);
    expect(names).toContain(`models/${GEMINI_MODEL}`);

    const response = await fetch(`${server.url}/v1beta/models`, { headers: { 'x-goog-api-key': key } });
    const body = (await response.json()) as { models: Record<string, unknown>[] };
    expect(body.models).toContainEqual({
      name: `models/${GEMINI_MODEL}`,
      displayName: GEMINI_MODEL,
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
    });
  });

  it('answers in the Google error shape: unknown method, unknown key', async () => {
    const key = await newKey();
    const unknownMethod = await fetch(`${server.url}/api/v1beta/models/${GEMINI_MODEL}:embedEverything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: '{}',
    });
    expect(unknownMethod.status).toBe(404);
    expect(await unknownMethod.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });

    const unauthenticated = await fetch(`${server.url}/api/v1beta/models/${GEMINI_MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'gh-not-a-key' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    expect(mock.requests).toHaveLength(0);
  });

  it('passes the provider error through in Google shape', async () => {
    const key = await newKey();
    mock.enqueue({ status: 400 });
    await expect(
      genAi(key).models.generateContent({ model: GEMINI_MODEL, contents: 'bad' }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('OpenAI clients through the gateway to Azure OpenAI', () => {
  it('calls chat completions on the mapped deployment with api-version and api-key', async () => {
    const key = await newKey();
    mock.enqueue({ usage: { inputTokens: 40, outputTokens: 10 } });
    const completion = await openAi(key).chat.completions.create({
      model: AZURE_MODEL,
      messages: [{ role: 'user', content: 'hello azure' }],
    });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(completion.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 10 });

    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(
      `/openai/deployments/${AZURE_DEPLOYMENT}/chat/completions?api-version=${AZURE_API_VERSION}`,
    );
    expect(upstream.headers['api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expect(upstream.headers.authorization).toBeUndefined();
    expectNoVirtualKey(upstream, key);
  });

  it('streams chat completions and meters them', async () => {
    const key = await newKey();
    mock.enqueue({ text: 'Azure streams too.', usage: { inputTokens: 500, outputTokens: 50 } });
    const stream = await openAi(key).chat.completions.create({
      model: AZURE_METERED_MODEL,
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let sawUsageChunk = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsageChunk = true;
    }
    expect(text).toBe('Azure streams too.');
    // The gateway asked for the usage chunk for metering; the client did not, so it does not see it.
    expect(sawUsageChunk).toBe(false);

    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe(
      `/openai/deployments/prod-4o/chat/completions?api-version=${AZURE_API_VERSION}`,
    );
    expect(upstream.headers['api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expect(upstream.body.stream_options).toEqual({ include_usage: true });
    expectNoVirtualKey(upstream, key);

    const row = await usageRow(AZURE_METERED_MODEL, 1);
    expect(row).toMatchObject({ requests: 1, inputTokens: 500, outputTokens: 50 });
    // Azure's catalogue entry falls back to OpenAI's prices for gpt-4o.
    expect(Number(row?.costUsd)).toBeGreaterThan(0);
  });

  it('calls the Responses API on the v1 surface, naming the deployment as the model', async () => {
    const key = await newKey();
    const response = await openAi(key).responses.create({ model: AZURE_MODEL, input: 'hi' });
    expect(response.output_text).toBe(DEFAULT_TEXT);
    const upstream = mock.requests[0] as RecordedRequest;
    expect(upstream.path).toBe('/openai/v1/responses');
    expect(upstream.body.model).toBe(AZURE_DEPLOYMENT);
    expect(upstream.headers['api-key']).toBe(MOCK_UPSTREAM_API_KEY);
  });

  it('calls embeddings on the mapped deployment', async () => {
    const key = await newKey();
    const result = await openAi(key).embeddings.create({
      model: AZURE_EMBEDDING_MODEL,
      input: 'vector me',
      encoding_format: 'float',
    });
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(mock.requests[0]?.path).toBe(
      `/openai/deployments/embeddings-small/embeddings?api-version=${AZURE_API_VERSION}`,
    );
  });

  it('does not route a model without a deployment to Azure', async () => {
    const key = await newKey();
    await expect(
      openAi(key).chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404 });
    expect(mock.requests).toHaveLength(0);
  });

  it('refuses a credential without its resource endpoint with a clear message', async () => {
    const response = await fetch(`${server.url}/api/admin/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'azure-without-endpoint', type: 'azure', apiKey: MOCK_UPSTREAM_API_KEY }),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toBe('A provider of type azure needs baseUrl.');
  });
});

describe('provider adapters', () => {
  const target = (type: 'gemini' | 'azure', overrides: Partial<ProviderTarget> = {}): ProviderTarget => ({
    id: 'p1',
    name: 'test',
    type,
    baseUrl: undefined,
    apiKey: 'provider-key',
    secret: { apiKey: 'provider-key' },
    settings: {},
    models: undefined,
    priceOverrides: {},
    ...overrides,
  });
  const call = (overrides: Partial<UpstreamCall>): UpstreamCall => ({
    api: 'gemini-generate',
    dialect: 'gemini-generate',
    model: GEMINI_MODEL,
    stream: false,
    search: '',
    headers: {},
    body: Buffer.from('{"contents":[]}'),
    ...overrides,
  });

  it('gemini: public endpoint, x-goog-api-key, alt=sse on every stream, the client key and alt dropped', () => {
    const streamed = geminiAdapter.buildRequest(
      target('gemini'),
      call({ stream: true, search: '?key=gh-virtual&alt=json&foo=bar' }),
    ) as Awaited<ReturnType<typeof geminiAdapter.buildRequest>>;
    expect(streamed.origin).toBe('https://generativelanguage.googleapis.com');
    expect(streamed.path).toBe(`/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?foo=bar&alt=sse`);
    expect(streamed.headers['x-goog-api-key']).toBe('provider-key');

    const translated = geminiAdapter.buildRequest(
      target('gemini', { baseUrl: 'https://proxy.example/google/' }),
      call({ api: 'openai-chat', dialect: 'gemini', stream: true, search: '?key=x' }),
    ) as Awaited<ReturnType<typeof geminiAdapter.buildRequest>>;
    expect(translated.origin).toBe('https://proxy.example');
    expect(translated.path).toBe(`/google/v1beta/models/${GEMINI_MODEL}:streamGenerateContent?alt=sse`);

    const counted = geminiAdapter.buildRequest(
      target('gemini'),
      call({ api: 'gemini-count-tokens', dialect: 'gemini-count-tokens' }),
    ) as Awaited<ReturnType<typeof geminiAdapter.buildRequest>>;
    expect(counted.path).toBe(`/v1beta/models/${GEMINI_MODEL}:countTokens`);
  });

  it('gemini: serves Google models on the public endpoint, only what it lists behind a custom base URL', () => {
    expect(geminiAdapter.servesModel(target('gemini'), 'gemini-2.5-pro')).toBe(true);
    expect(geminiAdapter.servesModel(target('gemini'), 'gemma-3')).toBe(true);
    expect(geminiAdapter.servesModel(target('gemini'), 'gpt-4o')).toBe(false);
    // Without a models list a proxy is assumed to serve nothing: what it routes to is unknowable.
    const proxy = target('gemini', { baseUrl: 'https://proxy.example' });
    expect(geminiAdapter.servesModel(proxy, 'gpt-4o')).toBe(false);
    expect(geminiAdapter.servesModel(proxy, 'gemini-2.5-pro')).toBe(false);
    expect(geminiAdapter.translationDialect('gemini-2.5-pro')).toBe('gemini');
  });

  it('azure: resource endpoint with or without /openai, default api-version, deployment fallback', () => {
    for (const baseUrl of ['https://res.openai.azure.com', 'https://res.openai.azure.com/openai/']) {
      const request = azureAdapter.buildRequest(
        target('azure', { baseUrl }),
        call({ api: 'openai-chat', dialect: 'openai-chat', model: 'gpt-4o', body: Buffer.from('{}') }),
      ) as Awaited<ReturnType<typeof azureAdapter.buildRequest>>;
      expect(request.origin).toBe('https://res.openai.azure.com');
      expect(request.path).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
      expect(request.headers['api-key']).toBe('provider-key');
    }
    // Without a deployment map: OpenAI's models, each possibly deployed under its own name.
    expect(azureAdapter.servesModel(target('azure'), 'gpt-4o')).toBe(true);
    expect(azureAdapter.servesModel(target('azure'), 'claude-sonnet-4-6')).toBe(false);
    expect(
      azureAdapter.servesModel(target('azure', { settings: { deployments: { 'gpt-4o': 'd' } } }), 'gpt-4.1'),
    ).toBe(false);
  });

  it('parses {model}:{method} from the Gemini path', () => {
    expect(parseModelAction('gemini-2.5-flash:streamGenerateContent')).toEqual({
      model: 'gemini-2.5-flash',
      api: 'gemini-generate',
      stream: true,
    });
    expect(parseModelAction('gemini-1.5-pro-002:countTokens')).toEqual({
      model: 'gemini-1.5-pro-002',
      api: 'gemini-count-tokens',
      stream: false,
    });
    expect(parseModelAction('gemini-2.5-flash:toString')).toBeUndefined();
    expect(parseModelAction(':generateContent')).toBeUndefined();
    expect(parseModelAction('gemini-2.5-flash')).toBeUndefined();
  });
});
