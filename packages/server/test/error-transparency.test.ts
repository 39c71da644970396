import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import {
  ADMIN_TOKEN,
  type QuickStart,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

let mock: MockUpstream;
let server: TestGatehouse;
let setup: QuickStart;
let openai: OpenAI;
let anthropic: Anthropic;

let gateway: QuickStartGateway | undefined;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  ({ mock, server, setup } = gateway);
  openai = new OpenAI({ apiKey: setup.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: setup.key, baseURL: `${server.url}/api`, maxRetries: 0 });
});
afterAll(() => gateway?.close());
beforeEach(() => mock.reset());

function chat(body: Record<string, unknown> = {}, path = '/api/v1/chat/completions') {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

function messages(
  body: Record<string, unknown> = {},
  path = '/api/v1/messages',
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'x-api-key': setup.key,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
      ...body,
    }),
  });
}

/** Everything a client can observe about a response: status line headers and body bytes. */
async function observe(response: Response): Promise<{ headers: string; body: string }> {
  return { headers: JSON.stringify([...response.headers]), body: await response.text() };
}

describe('upstream errors reach the client verbatim', () => {
  // Non-ASCII and an unusual field order: a re-serialised or re-encoded body would not match.
  const rateLimitBody = {
    error: {
      code: 'rate_limit_exceeded',
      message: 'Rate limit reached for gpt-4o-mini in organization org-ÅBC on requests per min (RPM) — 😬',
      type: 'requests',
      param: null,
    },
  };
  const rateLimit = {
    status: 429,
    headers: {
      'retry-after': '7',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-limit-requests': '500',
    },
    body: rateLimitBody,
  };

  it('passes an OpenAI 429 through with its status, retry headers and exact body bytes', async () => {
    mock.enqueue(rateLimit);
    const response = await chat();
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('500');
    expect(response.headers.get('content-type')).toBe('application/json');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(Buffer.from(JSON.stringify(rateLimitBody), 'utf8'))).toBe(true);
  });

  it('lets the OpenAI SDK surface the upstream 429 as a RateLimitError with the provider message', async () => {
    mock.enqueue(rateLimit);
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.code).toBe('rate_limit_exceeded');
    expect(rateLimited.type).toBe('requests');
    expect(rateLimited.message).toContain(rateLimitBody.error.message);
    expect(rateLimited.headers.get('retry-after')).toBe('7');
    // The SDK was told not to retry: one attempt reached the provider.
    expect(mock.requests).toHaveLength(1);
  });

  it('passes an Anthropic 529 overloaded error through, provider request id and all', async () => {
    mock.enqueue({ status: 529, headers: { 'retry-after': '3' } });
    const response = await messages();
    expect(response.status).toBe(529);
    expect(response.headers.get('retry-after')).toBe('3');
    const providerRequestId = response.headers.get('request-id');
    expect(providerRequestId).toMatch(/^req_/);
    expect(await response.text()).toBe(
      JSON.stringify({
        type: 'error',
        error: { type: 'overloaded_error', message: 'Overloaded' },
        request_id: providerRequestId,
      }),
    );
  });

  it('lets the Anthropic SDK see the 529 and the 500 with their provider error types', async () => {
    mock.enqueue({ status: 529 }, { status: 500 });
    const request = () =>
      anthropic.messages
        .create({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
        .catch((caught: unknown) => caught);

    const overloaded = await request();
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).requestID).toMatch(/^req_/);

    const failed = await request();
    expect(failed).toBeInstanceOf(Anthropic.InternalServerError);
    expect((failed as InstanceType<typeof Anthropic.InternalServerError>).status).toBe(500);
    expect((failed as InstanceType<typeof Anthropic.InternalServerError>).type).toBe('api_error');
    expect(mock.requests).toHaveLength(2);
  });

  it('passes an Anthropic 500 body through byte for byte', async () => {
    const body = {
      type: 'error',
      error: { type: 'api_error', message: 'Internal server error — ünïcödé' },
      request_id: 'req_fixed_500',
    };
    mock.enqueue({ status: 500, body, headers: { 'request-id': 'req_fixed_500' } });
    const response = await messages();
    expect(response.status).toBe(500);
    expect(response.headers.get('request-id')).toBe('req_fixed_500');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(Buffer.from(JSON.stringify(body), 'utf8'))).toBe(true);
  });
});

describe('Anthropic request headers and query reach the provider', () => {
  const beta = 'prompt-caching-2024-07-31,interleaved-thinking-2025-05-14';

  it('forwards anthropic-version and anthropic-beta verbatim', async () => {
    const response = await messages({}, '/api/v1/messages', {
      'anthropic-version': '2023-01-01',
      'anthropic-beta': beta,
    });
    expect(response.status).toBe(200);
    expect(mock.requests[0]?.headers['anthropic-version']).toBe('2023-01-01');
    expect(mock.requests[0]?.headers['anthropic-beta']).toBe(beta);
  });

  it('forwards ?beta=true from /api/v1/messages and from the un-prefixed /v1/messages', async () => {
    // Claude Code posts to /v1/messages?beta=true; the official SDK no longer does, so use fetch.
    const prefixed = await messages({}, '/api/v1/messages?beta=true', {
      'anthropic-beta': 'interleaved-thinking-2025-05-14',
    });
    expect(prefixed.status).toBe(200);
    const answer = (await prefixed.json()) as { content: Array<{ text?: string }> };
    expect(answer.content[0]?.text).toBe('Hello from the mock upstream.');
    const bare = await messages({}, '/v1/messages?beta=true', { 'anthropic-beta': beta });
    expect(bare.status).toBe(200);

    expect(mock.requests.map((request) => request.path)).toEqual([
      '/v1/messages?beta=true',
      '/v1/messages?beta=true',
    ]);
    expect(mock.requests[0]?.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(mock.requests[1]?.headers['anthropic-beta']).toBe(beta);
  });
});

describe('credentials stay on their side of the gateway', () => {
  it('never shows the provider key to the client, in success, stream, upstream error or gateway error', async () => {
    mock.enqueue({}, {}, { status: 429, headers: { 'retry-after': '1' } }, { status: 529 });
    const seen = [
      await observe(await chat()),
      await observe(await chat({ stream: true })),
      await observe(await chat()),
      await observe(await messages()),
      await observe(await messages({ stream: true })),
      await observe(await chat({ model: 'no-such-model' })),
      await observe(
        await fetch(`${server.url}/api/v1/models`, { headers: { authorization: `Bearer ${setup.key}` } }),
      ),
    ];
    expect(mock.requests).toHaveLength(5);
    expect(seen[0]?.body).toContain('Hello from the mock upstream.');
    for (const observed of seen) {
      expect(observed.headers).not.toContain(MOCK_UPSTREAM_API_KEY);
      expect(observed.body).not.toContain(MOCK_UPSTREAM_API_KEY);
    }
  });

  it('never sends the virtual key to the provider, whichever way the client presented it', async () => {
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': setup.key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect((await chat()).status).toBe(200);
    expect((await messages()).status).toBe(200);
    expect((await messages({}, '/api/v1/messages', { authorization: `Bearer ${setup.key}` })).status).toBe(
      200,
    );
    expect(mock.requests).toHaveLength(4);
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${MOCK_UPSTREAM_API_KEY}`);
    expect(mock.requests[2]?.headers['x-api-key']).toBe(MOCK_UPSTREAM_API_KEY);
    expect(JSON.stringify(mock.requests)).not.toContain(setup.key);
  });

  it('does not forward a key given as ?key= in the query string to the provider', async () => {
    const response = await fetch(`${server.url}/v1/messages?beta=true&key=${encodeURIComponent(setup.key)}`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]?.path).not.toContain(setup.key);
    expect(mock.requests[0]?.path).toBe('/v1/messages?beta=true');
  });
});

describe('gateway headers', () => {
  it('puts x-gatehouse-request-id on every kind of response, each one distinct', async () => {
    mock.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const responses: Record<string, Response> = {
      'upstream error': await chat(),
      success: await chat(),
      stream: await chat({ stream: true }),
      'anthropic success': await messages(),
      'missing key': await fetch(`${server.url}/api/v1/chat/completions`, { method: 'POST', body: '{}' }),
      'unknown model': await chat({ model: 'no-such-model' }),
      'malformed json': await fetch(`${server.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': setup.key, 'content-type': 'application/json' },
        body: '{"model":',
      }),
      models: await fetch(`${server.url}/api/v1/models`, {
        headers: { authorization: `Bearer ${setup.key}` },
      }),
      admin: await fetch(`${server.url}/api/admin/providers`, { headers: admin }),
      'admin unauthorised': await fetch(`${server.url}/api/admin/providers`),
      'admin not found': await fetch(`${server.url}/api/admin/providers/prov_nope`, { headers: admin }),
      'gateway 404': await fetch(`${server.url}/api/v1/nope`, { method: 'POST' }),
      'origin 404': await fetch(`${server.url}/no/such/page`),
      openapi: await fetch(`${server.url}/api/openapi.json`),
      healthz: await fetch(`${server.url}/healthz`),
    };
    const ids = new Set<string>();
    for (const [label, response] of Object.entries(responses)) {
      await response.arrayBuffer();
      const id = response.headers.get('x-gatehouse-request-id');
      expect(id, label).toMatch(/^req_[0-9a-f]{32}$/);
      ids.add(id as string);
    }
    expect(ids.size).toBe(Object.keys(responses).length);
    expect(responses['upstream error']?.status).toBe(429);
    expect(responses['origin 404']?.status).toBe(404);
  });

  it('names the provider that served in x-gatehouse-provider, upstream errors included', async () => {
    mock.enqueue({ status: 503 });
    const failed = await chat();
    expect(failed.status).toBe(503);
    expect(failed.headers.get('x-gatehouse-provider')).toBe('mock-openai');
    expect(await failed.json()).toMatchObject({ error: { type: 'server_error' } });

    const fromOpenAi = await chat({ stream: true });
    await fromOpenAi.text();
    expect(fromOpenAi.headers.get('x-gatehouse-provider')).toBe('mock-openai');
    const fromAnthropic = await messages();
    expect(fromAnthropic.headers.get('x-gatehouse-provider')).toBe('mock-anthropic');
  });
});

describe('a provider that cannot be reached', () => {
  let down: { key: string; deadUrl: string };

  beforeAll(async () => {
    const dead = await startMockUpstream();
    const deadUrl = dead.url;
    await dead.close();
    const openAiProvider = await server.admin('POST', '/providers', {
      name: 'down-openai',
      type: 'openai',
      baseUrl: `${deadUrl}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-down'],
    });
    const anthropicProvider = await server.admin('POST', '/providers', {
      name: 'down-anthropic',
      type: 'anthropic',
      baseUrl: deadUrl,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['claude-down'],
    });
    const policy = await server.admin('POST', '/routing-policies', {
      name: 'down',
      providers: [openAiProvider.id, anthropicProvider.id],
    });
    const project = await server.admin('POST', '/projects', { name: 'down', routingPolicyId: policy.id });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'down' });
    down = { key: key.key, deadUrl };
  });

  it('answers 502 in the OpenAI shape on chat completions, without the upstream address', async () => {
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${down.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-down', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('x-gatehouse-request-id')).toMatch(/^req_/);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(body).toEqual({
      error: { message: expect.any(String), type: 'server_error', param: null, code: 'upstream_unreachable' },
    });
    expect(text).not.toContain(new URL(down.deadUrl).host);

    const client = new OpenAI({ apiKey: down.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: 'gpt-down', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(502);
  });

  it('answers 502 in the Anthropic shape on messages', async () => {
    const response = await fetch(`${server.url}/api/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': down.key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-down',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.status).toBe(502);
    const requestId = response.headers.get('x-gatehouse-request-id');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: expect.any(String) },
      request_id: requestId,
    });
    expect(text).not.toContain(new URL(down.deadUrl).host);

    const client = new Anthropic({ apiKey: down.key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const error = await client.messages
      .create({ model: 'claude-down', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as InstanceType<typeof Anthropic.InternalServerError>).status).toBe(502);
    expect((error as InstanceType<typeof Anthropic.InternalServerError>).type).toBe('api_error');
  });
});
