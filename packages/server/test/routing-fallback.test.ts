import { generateKeyPairSync } from 'node:crypto';
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

let healthy: MockUpstream;
let flaky: MockUpstream;
let server: TestGatehouse;
let deadUrl: string;

beforeAll(async () => {
  healthy = await startMockUpstream();
  flaky = await startMockUpstream();
  const dead = await startMockUpstream();
  deadUrl = dead.url;
  await dead.close(); // nothing listens there any more: connections are refused
  server = await startTestGatehouse();
});
afterAll(async () => {
  await server?.close();
  await healthy?.close();
  await flaky?.close();
});
beforeEach(() => {
  healthy.reset();
  flaky.reset();
});

async function provider(name: string, type: 'openai' | 'anthropic', baseUrl: string) {
  const created = await server.admin('POST', '/providers', {
    name,
    type,
    baseUrl: type === 'openai' ? `${baseUrl}/v1` : baseUrl,
    apiKey: MOCK_UPSTREAM_API_KEY,
    // A custom base URL serves only what it lists.
    models: type === 'openai' ? ['gpt-4o', 'gpt-4o-mini'] : ['claude-*'],
  });
  return created.id as string;
}

/** A project whose own policy is the given chain, and a key for it. */
async function keyForChain(providerIds: string[]) {
  // Policies and projects are told apart by name: one per chain.
  const name = `chain ${providerIds.join(' ')}`;
  const policy = await server.admin('POST', '/routing-policies', { name, providers: providerIds });
  const project = await server.admin('POST', '/projects', { name, routingPolicyId: policy.id });
  const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'fallback' });
  return { key: key.key as string, keyId: key.id as string };
}

async function eventFor(keyId: string) {
  const rows = await eventually(
    async () => {
      await server.flushUsage();
      return server.gatehouse.storage.db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));
    },
    (found) => found.length > 0,
  );
  return rows.at(-1);
}

describe('routing policy chains', () => {
  it('falls back past a credential that refuses connections, and records both attempts', async () => {
    const dead = await provider('dead', 'openai', deadUrl);
    const good = await provider('good', 'openai', healthy.url);
    const { key, keyId } = await keyForChain([dead, good]);
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gatehouse-provider')).toBe('good');
    const event = await eventFor(keyId);
    expect(event?.providerId).toBe(good);
    expect(event?.attempts).toEqual([
      expect.objectContaining({ providerId: dead, errorCode: 'upstream_unreachable' }),
      expect.objectContaining({ providerId: good, status: 200 }),
    ]);
  });

  it('falls back on 429 and 5xx before the first byte, streaming included', async () => {
    const first = await provider('flaky', 'anthropic', flaky.url);
    const second = await provider('steady', 'anthropic', healthy.url);
    const { key, keyId } = await keyForChain([first, second]);
    flaky.enqueue({ status: 529 }, { status: 429, headers: { 'retry-after': '30' } });
    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });

    const message = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]?.type === 'text' && message.content[0].text).toBe(
      'Hello from the mock upstream.',
    );

    const streamed = await anthropic.messages
      .stream({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(streamed.stop_reason).toBe('end_turn');
    expect(flaky.requests).toHaveLength(2);
    expect(healthy.requests).toHaveLength(2);
    const event = await eventFor(keyId);
    expect(event?.attempts.map((attempt) => attempt.status)).toEqual([429, 200]);
  });

  it("returns the caller's own 400 at once instead of trying the next credential", async () => {
    const first = await provider('strict', 'openai', flaky.url);
    const second = await provider('spare', 'openai', healthy.url);
    const { key, keyId } = await keyForChain([first, second]);
    flaky.enqueue({ status: 400 });
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(healthy.requests).toHaveLength(0);
    const event = await eventFor(keyId);
    expect(event?.attempts).toEqual([expect.objectContaining({ providerId: first, status: 400 })]);
  });

  it("answers with the last credential's own error and retry-after when the whole chain fails", async () => {
    const first = await provider('busy-1', 'openai', flaky.url);
    const second = await provider('busy-2', 'openai', deadUrl);
    const third = await provider('busy-3', 'openai', healthy.url);
    const { key } = await keyForChain([first, second, third]);
    flaky.enqueue({ status: 503 });
    healthy.enqueue({ status: 429, headers: { 'retry-after': '17' } });
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('17');
    expect((await response.json()).error.code).toBe('rate_limit_exceeded');
  });

  it('answers 502 in the caller dialect when no credential in the chain can be reached', async () => {
    const only = await provider('gone', 'anthropic', deadUrl);
    const { key } = await keyForChain([only]);
    const response = await fetch(`${server.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('falls back past a Vertex credential whose token cannot be minted, and names why when it is the last', async () => {
    // The key file's token endpoint answers 404: no token, so nothing can be sent with it.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const vertex = await server.admin('POST', '/providers', {
      name: 'vertex-no-token',
      type: 'vertex',
      baseUrl: flaky.url,
      projectId: 'gatehouse-test',
      location: 'us-east5',
      serviceAccountJson: JSON.stringify({
        private_key: privateKey,
        client_email: 'gateway@gatehouse-test.iam.gserviceaccount.com',
        token_uri: `${flaky.url}/no-such-token-endpoint`,
      }),
    });
    const spare = await provider('vertex-spare', 'anthropic', healthy.url);
    const request = {
      model: 'claude-haiku-4-5',
      max_tokens: 5,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const chained = await keyForChain([vertex.id, spare]);
    const anthropic = new Anthropic({ apiKey: chained.key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const message = await anthropic.messages.create(request);
    expect(message.content[0]?.type === 'text' && message.content[0].text).toBe(
      'Hello from the mock upstream.',
    );
    const event = await eventFor(chained.keyId);
    expect(event?.attempts).toEqual([
      expect.objectContaining({ providerId: vertex.id, errorCode: 'upstream_unreachable' }),
      expect.objectContaining({ providerId: spare, status: 200 }),
    ]);
    expect(flaky.requests.filter((each) => each.path.includes('rawPredict'))).toHaveLength(0);

    const alone = await keyForChain([vertex.id]);
    const failure = await new Anthropic({
      apiKey: alone.key,
      baseURL: `${server.url}/api`,
      maxRetries: 0,
    }).messages
      .create(request)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((failure as Error).message).toContain("Vertex credential 'vertex-no-token'");
    expect((failure as Error).message).toContain('token endpoint answered 404');
    expect((failure as Error).message).not.toContain('PRIVATE KEY');
  });

  it('skips a credential whose circuit breaker is open', async () => {
    const broken = await provider('breaker', 'openai', flaky.url);
    const spare = await provider('breaker-spare', 'openai', healthy.url);
    const { key, keyId } = await keyForChain([broken, spare]);
    flaky.setDefault({ status: 500 });
    const call = () =>
      fetch(`${server.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    for (let index = 0; index < 5; index++) expect((await call()).status).toBe(200);
    expect(flaky.requests).toHaveLength(5);
    // Five failures in a row opened the breaker: the next call goes straight to the spare.
    expect((await call()).status).toBe(200);
    expect(flaky.requests).toHaveLength(5);
    const event = await eventFor(keyId);
    expect(event?.attempts).toEqual([expect.objectContaining({ providerId: spare, status: 200 })]);
  });

  it('never spends an attempt on a credential that cannot serve the model', async () => {
    const openAiOnly = await server.admin('POST', '/providers', {
      name: 'openai-public',
      type: 'openai',
      apiKey: MOCK_UPSTREAM_API_KEY,
    });
    const claude = await provider('claude', 'anthropic', healthy.url);
    const { keyId, key } = await keyForChain([openAiOnly.id, claude]);
    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    const event = await eventFor(keyId);
    expect(event?.attempts).toEqual([expect.objectContaining({ providerId: claude, status: 200 })]);
  });
});
