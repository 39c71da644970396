import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import {
  ADMIN_TOKEN,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

/**
 * Rate limits: requests and tokens per minute on a key, user, project or provider credential,
 * refused with 429 and `retry-after` in the caller's own error shape, before any provider is called.
 */
let gateway: QuickStartGateway | undefined;
let mock: MockUpstream;
let server: TestGatehouse;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  ({ mock, server } = gateway);
});
afterAll(() => gateway?.close());
beforeEach(() => mock.reset());

async function newKey(projectId = (gateway as QuickStartGateway).setup.projectId) {
  const key = await server.admin('POST', '/virtual-keys', { projectId, name: 'limited' });
  return { key: key.key as string, keyId: key.id as string };
}

function chat(key: string, body: Record<string, unknown> = {}) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

/** Statuses of calls made one after the other, bodies read so connections are reused. */
async function statusesOf(calls: (() => Promise<Response>)[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const call of calls) {
    const response = await call();
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

/** The admin API without the harness's throw on an error status. */
async function adminCall(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('requests per minute', () => {
  it('admits the limit, then refuses with 429, retry-after and the OpenAI error shape', async () => {
    const { key, keyId } = await newKey();
    await server.admin('POST', '/rate-limits', { scope: 'key', scopeId: keyId, requestsPerMinute: 3 });
    expect(await statusesOf([() => chat(key), () => chat(key), () => chat(key)])).toEqual([200, 200, 200]);

    const refused = await chat(key);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    // One request's worth comes back every 20 s at 3 per minute.
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(await refused.json()).toEqual({
      error: {
        message: `Rate limit of 3 requests per minute on key ${keyId} exceeded. Retry after ${retryAfter} seconds.`,
        type: 'rate_limit_exceeded',
        param: null,
        code: 'rate_limited',
      },
    });
    expect(mock.requests).toHaveLength(3);
  });

  it('answers an Anthropic client with its RateLimitError', async () => {
    const { key, keyId } = await newKey();
    await server.admin('POST', '/rate-limits', { scope: 'key', scopeId: keyId, requestsPerMinute: 1 });
    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const ask = () =>
      anthropic.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await ask();
    const error = await ask().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(Number(rateLimit.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(rateLimit.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(mock.requests).toHaveLength(1);
  });

  it('keeps each key to its own limit: one key exhausted does not refuse another', async () => {
    const limited = await newKey();
    const alsoLimited = await newKey();
    const unlimited = await newKey();
    for (const { keyId } of [limited, alsoLimited]) {
      await server.admin('POST', '/rate-limits', { scope: 'key', scopeId: keyId, requestsPerMinute: 1 });
    }
    expect(await statusesOf([() => chat(limited.key), () => chat(limited.key)])).toEqual([200, 429]);
    expect(await statusesOf([() => chat(alsoLimited.key), () => chat(unlimited.key)])).toEqual([200, 200]);
    expect(await statusesOf([() => chat(unlimited.key), () => chat(unlimited.key)])).toEqual([200, 200]);
  });

  it('counts every key of a project against a project limit', async () => {
    const project = await server.admin('POST', '/projects', { name: 'rate limited project' });
    const first = await newKey(project.id);
    const second = await newKey(project.id);
    await server.admin('POST', '/rate-limits', {
      scope: 'project',
      scopeId: project.id,
      requestsPerMinute: 2,
    });
    const statuses = await statusesOf([() => chat(first.key), () => chat(second.key), () => chat(first.key)]);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await chat(second.key);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.message).toContain(`on project ${project.id}`);
  });

  it('limits a user (principal): for a service key, the key itself', async () => {
    const { key, keyId } = await newKey();
    await server.admin('POST', '/rate-limits', { scope: 'user', scopeId: keyId, requestsPerMinute: 1 });
    const statuses = await statusesOf([() => chat(key), () => chat(key)]);
    expect(statuses).toEqual([200, 429]);
  });
});

describe('tokens per minute', () => {
  // About 75 bytes of body (≈ 19 input tokens) plus max_tokens: ≈ 419 tokens a call.
  const call = (key: string) => () => chat(key, { max_tokens: 400 });

  it('counts the estimated tokens: input from the body, output bounded by max_tokens', async () => {
    const { key, keyId } = await newKey();
    await server.admin('POST', '/rate-limits', { scope: 'key', scopeId: keyId, tokensPerMinute: 1_000 });
    expect(await statusesOf([call(key), call(key)])).toEqual([200, 200]);
    const refused = await call(key)();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-should-retry')).toBeNull();
    expect((await refused.json()).error.message).toBe(
      `Rate limit of 1000 tokens per minute on key ${keyId} exceeded. Retry after ${refused.headers.get('retry-after')} seconds.`,
    );
    expect(mock.requests).toHaveLength(2);
  });

  it('refuses a call larger than the limit on its own, telling SDKs not to retry, and consumes nothing', async () => {
    const { key, keyId } = await newKey();
    await server.admin('POST', '/rate-limits', {
      scope: 'key',
      scopeId: keyId,
      requestsPerMinute: 2,
      tokensPerMinute: 1_000,
    });
    const tooLarge = await chat(key, { max_tokens: 2_000 });
    expect(tooLarge.status).toBe(429);
    expect(tooLarge.headers.get('x-should-retry')).toBe('false');
    expect((await tooLarge.json()).error.message).toMatch(
      /^This request's estimated \d+ tokens exceed the rate limit of 1000 tokens per minute on key /,
    );
    // The refusal took nothing from the request limit either: both requests still pass.
    expect(await statusesOf([call(key), call(key)])).toEqual([200, 200]);
  });
});

describe('provider credential limits', () => {
  it('apply to every key whose call goes to that provider first, and lift when deleted', async () => {
    const { anthropicProviderId } = (gateway as QuickStartGateway).setup;
    const first = await newKey();
    const second = await newKey();
    const limit = await server.admin('POST', '/rate-limits', {
      scope: 'provider',
      scopeId: anthropicProviderId,
      requestsPerMinute: 2,
    });
    const claude = (key: string) => () => chat(key, { model: 'claude-sonnet-4-6' });
    expect(await statusesOf([claude(first.key), claude(second.key)])).toEqual([200, 200]);
    const refused = await claude(first.key)();
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.message).toContain(
      `2 requests per minute on provider credential ${anthropicProviderId}`,
    );
    // gpt-4o goes to the OpenAI credential: not limited.
    expect(await statusesOf([() => chat(first.key)])).toEqual([200]);

    await server.admin('DELETE', `/rate-limits/${limit.id}`);
    expect(await statusesOf([claude(first.key)])).toEqual([200]);
  });
});

describe('admin API', () => {
  it('creates, lists, reads and deletes a rate limit', async () => {
    const { keyId } = await newKey();
    const created = await server.admin('POST', '/rate-limits', {
      scope: 'key',
      scopeId: keyId,
      tokensPerMinute: 50_000,
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^rl_[0-9a-f]{20}$/),
      scope: 'key',
      scopeId: keyId,
      requestsPerMinute: null,
      tokensPerMinute: 50_000,
      createdAt: expect.any(String),
    });
    expect(await server.admin('GET', `/rate-limits/${created.id}`)).toEqual(created);
    const listed = await server.admin('GET', '/rate-limits');
    expect(listed.data).toContainEqual(created);

    const duplicate = await adminCall('POST', '/rate-limits', {
      scope: 'key',
      scopeId: keyId,
      requestsPerMinute: 5,
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.code).toBe('already_exists');

    expect((await adminCall('DELETE', `/rate-limits/${created.id}`)).status).toBe(204);
    expect((await adminCall('GET', `/rate-limits/${created.id}`)).status).toBe(404);
    expect((await adminCall('DELETE', `/rate-limits/${created.id}`)).status).toBe(404);
  });

  it.each([
    [{ scope: 'key', scopeId: 'vk_x' }, 'requestsPerMinute, tokensPerMinute or both'],
    [{ scope: 'key', scopeId: 'vk_x', requestsPerMinute: 0 }, 'requestsPerMinute'],
    [{ scope: 'key', scopeId: 'vk_x', requestsPerMinute: 1.5 }, 'requestsPerMinute'],
    [{ scope: 'key', scopeId: 'vk_x', tokensPerMinute: -1 }, 'tokensPerMinute'],
    [{ scope: 'team', scopeId: 'team_x', requestsPerMinute: 1 }, 'scope'],
    [{ scope: 'key', requestsPerMinute: 1 }, 'scopeId'],
    [{ scope: 'key', scopeId: 'vk_x', requestsPerMinute: 1, burst: 2 }, 'burst'],
  ])('refuses %j with 400 naming %s', async (body, named) => {
    const answer = await adminCall('POST', '/rate-limits', body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_request');
    expect(answer.json.error.message).toContain(named);
  });

  it('needs the admin token', async () => {
    const response = await fetch(`${server.url}/api/admin/rate-limits`);
    expect(response.status).toBe(401);
  });
});
