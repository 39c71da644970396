import { createVerify, generateKeyPairSync } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { WireEvent } from '@gatehouse/core';
import { GoogleGenAI } from '@google/genai';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamClient } from '../src/gateway/dispatch/upstream.js';
import { bedrockAdapter } from '../src/gateway/providers/bedrock/adapter.js';
import { createEventStreamDecoder } from '../src/gateway/providers/bedrock/event-stream.js';
import type { ProviderTarget, UpstreamCall, UpstreamRequest } from '../src/gateway/providers/types.js';
import { vertexAdapter } from '../src/gateway/providers/vertex/adapter.js';
import { OutboundNetworks } from '../src/security/outbound-networks.js';
import { MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY } from './mock-upstream/bedrock.js';
import { type MockUpstream, startMockUpstream } from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

const CLAUDE_ON_BEDROCK = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CLAUDE_ON_VERTEX = 'claude-sonnet-4-5@20250929';
const GEMINI = 'gemini-2.5-flash';
const NOVA = 'amazon.nova-pro-v1:0';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

function serviceAccountJson(tokenUri: string): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'gatehouse-test',
    private_key_id: 'key-1',
    private_key: privateKey,
    client_email: 'gateway@gatehouse-test.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: tokenUri,
  });
}

function target(overrides: Partial<ProviderTarget>): ProviderTarget {
  return {
    id: 'prov_test',
    name: 'test',
    type: 'bedrock',
    baseUrl: undefined,
    apiKey: undefined,
    secret: {},
    settings: {},
    models: undefined,
    priceOverrides: {},
    ...overrides,
  };
}

/** The gateway's upstream client, as dispatch hands it to adapters: the mock is on loopback. */
const upstream = new UpstreamClient(
  { connectMs: 5_000, headersMs: 5_000, idleMs: 5_000 },
  new OutboundNetworks(['127.0.0.0/8']),
);
afterAll(() => upstream.close());

const buildVertexRequest = (target: ProviderTarget, upstreamCall: UpstreamCall) =>
  vertexAdapter.buildRequest(target, upstreamCall, upstream);

function call(overrides: Partial<UpstreamCall> & { json?: unknown }): UpstreamCall {
  const { json, ...rest } = overrides;
  return {
    api: 'anthropic-messages',
    dialect: 'anthropic-messages',
    model: CLAUDE_ON_BEDROCK,
    stream: false,
    search: '',
    headers: {},
    body: Buffer.from(JSON.stringify(json ?? {})),
    ...rest,
  };
}

const bedrockTarget = (overrides: Partial<ProviderTarget> = {}) =>
  target({
    type: 'bedrock',
    secret: { accessKeyId: MOCK_AWS_ACCESS_KEY_ID, secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY },
    settings: { region: 'eu-west-1' },
    ...overrides,
  });

async function send(request: UpstreamRequest): Promise<Response> {
  return fetch(`${request.origin}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
}

describe('the Bedrock adapter', () => {
  it('sends Claude to InvokeModel with the body Bedrock takes and a SigV4 signature', async () => {
    const request = await bedrockAdapter.buildRequest(
      bedrockTarget({ secret: { ...bedrockTarget().secret, sessionToken: 'session-token-1' } }),
      call({
        stream: true,
        headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14, claude-code-20250219' },
        json: {
          model: CLAUDE_ON_BEDROCK,
          stream: true,
          max_tokens: 64,
          messages: [{ role: 'user', content: 'hi' }],
        },
      }),
    );
    expect(request.origin).toBe('https://bedrock-runtime.eu-west-1.amazonaws.com');
    expect(request.path).toBe(
      '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream',
    );
    expect(request.method).toBe('POST');
    expect(JSON.parse(String(request.body))).toEqual({
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
      anthropic_version: 'bedrock-2023-05-31',
      anthropic_beta: ['interleaved-thinking-2025-05-14'],
    });
    const { headers } = request;
    expect(headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${MOCK_AWS_ACCESS_KEY_ID}/\\d{8}/eu-west-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`,
      ),
    );
    expect(headers.authorization).toContain('host;');
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(headers['x-amz-security-token']).toBe('session-token-1');
    expect(headers.host).toBe('bedrock-runtime.eu-west-1.amazonaws.com');
    expect(headers['anthropic-beta']).toBeUndefined();
    expect(headers['accept-encoding']).toBe('identity');
  });

  it('sends other models to Converse with the rendered body as it is', async () => {
    const body = { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
    const request = await bedrockAdapter.buildRequest(
      bedrockTarget({ baseUrl: 'http://127.0.0.1:9/prefix/' }),
      call({ dialect: 'bedrock-converse', api: 'openai-chat', model: 'amazon.nova-pro-v1:0', json: body }),
    );
    expect(request.origin).toBe('http://127.0.0.1:9');
    expect(request.path).toBe('/prefix/model/amazon.nova-pro-v1%3A0/converse');
    expect(JSON.parse(String(request.body))).toEqual(body);
    expect(request.headers.host).toBe('127.0.0.1:9');
    const streamed = await bedrockAdapter.buildRequest(
      bedrockTarget(),
      call({ dialect: 'bedrock-converse', model: 'meta.llama3-70b-instruct-v1:0', stream: true, json: body }),
    );
    expect(streamed.path).toBe('/model/meta.llama3-70b-instruct-v1%3A0/converse-stream');
  });

  it('signs requests the mock verifies by signing them again', async () => {
    const json = { model: CLAUDE_ON_BEDROCK, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
    const good = await send(
      await bedrockAdapter.buildRequest(bedrockTarget({ baseUrl: mock.url }), call({ json })),
    );
    expect(good.status).toBe(200);
    expect(((await good.json()) as { content: { text: string }[] }).content[0]?.text).toBe(
      'Hello from the mock upstream.',
    );
    const wrongSecret = bedrockTarget({
      baseUrl: mock.url,
      secret: { accessKeyId: MOCK_AWS_ACCESS_KEY_ID, secretAccessKey: 'not-the-secret' },
    });
    const bad = await send(await bedrockAdapter.buildRequest(wrongSecret, call({ json })));
    expect(bad.status).toBe(403);
    expect(bad.headers.get('x-amzn-errortype')).toMatch(/^AccessDeniedException/);
  });

  it('knows Bedrock model ids, and which go to InvokeModel', () => {
    const noBase = bedrockTarget();
    for (const model of [
      'anthropic.claude-3-5-haiku-20241022-v1:0',
      CLAUDE_ON_BEDROCK,
      'eu.anthropic.claude-sonnet-4-20250514-v1:0',
      'apac.amazon.nova-lite-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'amazon.nova-pro-v1:0',
      'meta.llama3-70b-instruct-v1:0',
      'mistral.mistral-large-2402-v1:0',
      'cohere.command-r-plus-v1:0',
      'ai21.jamba-1-5-large-v1:0',
      'deepseek.r1-v1:0',
      'openai.gpt-oss-120b-1:0',
      'qwen.qwen3-32b-v1:0',
    ]) {
      expect(bedrockAdapter.servesModel(noBase, model), model).toBe(true);
    }
    for (const model of ['claude-sonnet-4-5', 'gpt-4o', 'gemini-2.5-flash']) {
      expect(bedrockAdapter.servesModel(noBase, model), model).toBe(false);
    }
    // A base URL is still Bedrock's API (a VPC endpoint): the model ids it serves are Bedrock's.
    const behindEndpoint = bedrockTarget({ baseUrl: mock.url });
    expect(bedrockAdapter.servesModel(behindEndpoint, CLAUDE_ON_BEDROCK)).toBe(true);
    expect(bedrockAdapter.servesModel(behindEndpoint, 'anything')).toBe(false);
    expect(bedrockAdapter.translationDialect(CLAUDE_ON_BEDROCK)).toBe('anthropic-messages');
    expect(bedrockAdapter.translationDialect('anthropic.claude-3-haiku-20240307-v1:0')).toBe(
      'anthropic-messages',
    );
    expect(bedrockAdapter.translationDialect('amazon.nova-pro-v1:0')).toBe('bedrock-converse');
    expect(bedrockAdapter.nativeApis).toEqual([]);
    expect(bedrockAdapter.priceCatalogueId).toBe('aws');
  });
});

describe('the AWS event-stream decoder', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const event = (type: string, payload: unknown) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      } satisfies MessageHeaders,
      body: fromUtf8(JSON.stringify(payload)),
    });
  const exception = (type: string, message: string) =>
    codec.encode({
      headers: {
        ':exception-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'exception' },
      },
      body: fromUtf8(JSON.stringify({ message })),
    });
  const chunk = (payload: unknown) =>
    event('chunk', { bytes: Buffer.from(JSON.stringify(payload)).toString('base64'), p: 'abc' });

  function decodeIn(pieces: Uint8Array[], dialect?: 'anthropic-messages'): WireEvent[] {
    const decode = createEventStreamDecoder(dialect === 'anthropic-messages' ? 'anthropic' : 'bedrock');
    return pieces.flatMap((piece) => decode(piece));
  }

  /** Decodes the stream whole, split in two at every byte, and byte by byte: always the same events. */
  function expectSameAtEverySplit(stream: Uint8Array, expected: WireEvent[], dialect?: 'anthropic-messages') {
    expect(decodeIn([stream], dialect)).toEqual(expected);
    for (let at = 0; at <= stream.length; at++) {
      expect(decodeIn([stream.subarray(0, at), stream.subarray(at)], dialect)).toEqual(expected);
    }
    expect(
      decodeIn(
        Array.from(stream, (byte) => Uint8Array.of(byte)),
        dialect,
      ),
    ).toEqual(expected);
  }

  it('turns ConverseStream frames into events named by :event-type, exceptions by :exception-type', () => {
    const stream = Buffer.concat([
      event('messageStart', { role: 'assistant' }),
      event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hé ✓' } }),
      event('messageStop', { stopReason: 'end_turn' }),
      exception('throttlingException', 'Too many requests'),
    ]);
    expectSameAtEverySplit(stream, [
      { event: 'messageStart', data: '{"role":"assistant"}' },
      { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"Hé ✓"}}' },
      { event: 'messageStop', data: '{"stopReason":"end_turn"}' },
      { event: 'throttlingException', data: '{"message":"Too many requests"}' },
    ]);
  });

  it('unwraps InvokeModel chunks into Anthropic events, and exceptions into Anthropic errors', () => {
    const start = { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 3 } } };
    const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } };
    const stream = Buffer.concat([
      chunk(start),
      chunk(delta),
      exception('serviceUnavailableException', 'Busy'),
    ]);
    expectSameAtEverySplit(
      stream,
      [
        { event: 'message_start', data: JSON.stringify(start) },
        { event: 'content_block_delta', data: JSON.stringify(delta) },
        {
          event: 'error',
          data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Busy' } }),
        },
      ],
      'anthropic-messages',
    );
  });

  it('refuses a frame whose length prefix cannot be right, instead of buffering towards it', () => {
    const decode = createEventStreamDecoder();
    const bogus = new Uint8Array(12);
    new DataView(bogus.buffer).setUint32(0, 0xffff_fff0);
    expect(() => decode(bogus)).toThrow(/Malformed AWS event-stream frame/);
  });

  it('refuses a frame whose checksum is wrong', () => {
    const frame = event('messageStart', { role: 'assistant' });
    frame[frame.length - 5] = (frame[frame.length - 5] as number) ^ 0xff;
    expect(() => createEventStreamDecoder()(frame)).toThrow();
  });

  it('is what the adapter hands the pipeline, keyed by the dialect spoken', () => {
    const decode = bedrockAdapter.createStreamDecoder?.('anthropic-messages');
    expect(decode?.(exception('throttlingException', 'Slow down'))).toEqual([
      { event: 'error', data: '{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}' },
    ]);
    const converse = bedrockAdapter.createStreamDecoder?.('bedrock-converse');
    expect(converse?.(exception('throttlingException', 'Slow down'))).toEqual([
      { event: 'throttlingException', data: '{"message":"Slow down"}' },
    ]);
  });
});

describe('the Vertex adapter', () => {
  let seq = 0;
  const vertexTarget = (overrides: Partial<ProviderTarget> = {}) =>
    target({
      id: `prov_vertex_${++seq}`,
      type: 'vertex',
      baseUrl: mock.url,
      secret: { serviceAccountJson: serviceAccountJson(`${mock.url}/token`) },
      settings: { projectId: 'gatehouse-test', location: 'us-east5' },
      ...overrides,
    });
  const tokenRequests = () => mock.requests.filter((request) => request.path === '/token');

  it('mints a token at the key file token_uri with a signed JWT-bearer grant, and reuses it', async () => {
    const credential = vertexTarget();
    const json = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const first = await buildVertexRequest(
      credential,
      call({ api: 'gemini-generate', dialect: 'gemini-generate', model: GEMINI, json }),
    );
    const second = await buildVertexRequest(
      credential,
      call({ api: 'gemini-generate', dialect: 'gemini-generate', model: GEMINI, json }),
    );
    expect(tokenRequests()).toHaveLength(1);
    expect(first.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
    expect(second.headers.authorization).toBe(first.headers.authorization);

    const form = new URLSearchParams(tokenRequests()[0]?.rawBody);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.') as [string, string, string];
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    expect(verifier.verify(publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    expect(claims.iss).toBe('gateway@gatehouse-test.iam.gserviceaccount.com');
    expect(claims.scope).toBe('https://www.googleapis.com/auth/cloud-platform');

    // The token works against the mock's Vertex endpoint.
    const answer = await send(first);
    expect(answer.status).toBe(200);
    expect(tokenRequests()).toHaveLength(1);
  });

  it('builds the Gemini paths, passing a native client query through without its key', async () => {
    const credential = vertexTarget({ baseUrl: undefined });
    const json = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const base = '/v1/projects/gatehouse-test/locations/us-east5/publishers/google/models/gemini-2.5-flash';
    const generate = await buildVertexRequest(
      credential,
      call({ api: 'gemini-generate', dialect: 'gemini-generate', model: GEMINI, json }),
    );
    expect(generate.origin).toBe('https://us-east5-aiplatform.googleapis.com');
    expect(generate.path).toBe(`${base}:generateContent`);
    expect(generate.body?.toString()).toBe(JSON.stringify(json));
    const stream = await buildVertexRequest(
      credential,
      call({
        api: 'gemini-generate',
        dialect: 'gemini-generate',
        model: GEMINI,
        stream: true,
        search: '?alt=sse&key=gh-secret',
        json,
      }),
    );
    expect(stream.path).toBe(`${base}:streamGenerateContent?alt=sse`);
    const translated = await buildVertexRequest(
      credential,
      call({ api: 'openai-chat', dialect: 'gemini', model: GEMINI, stream: true, search: '?x=1', json }),
    );
    expect(translated.path).toBe(`${base}:streamGenerateContent?alt=sse`);
    const count = await buildVertexRequest(
      credential,
      call({
        api: 'gemini-count-tokens',
        dialect: 'gemini-count-tokens',
        model: GEMINI,
        json: { generateContentRequest: { model: `models/${GEMINI}`, ...json } },
      }),
    );
    expect(count.path).toBe(`${base}:countTokens`);
    expect(JSON.parse(String(count.body))).toEqual(json);
    const global = await buildVertexRequest(
      vertexTarget({ baseUrl: undefined, settings: { projectId: 'p', location: 'global' } }),
      call({ api: 'gemini-generate', dialect: 'gemini-generate', model: GEMINI, json }),
    );
    expect(global.origin).toBe('https://aiplatform.googleapis.com');
    expect(global.path).toBe(
      '/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:generateContent',
    );
  });

  it('sends Claude to rawPredict with the model in the URL and the Vertex version in the body', async () => {
    const credential = vertexTarget({ baseUrl: undefined });
    const json = {
      model: CLAUDE_ON_VERTEX,
      stream: true,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    };
    const request = await buildVertexRequest(
      credential,
      call({
        model: CLAUDE_ON_VERTEX,
        stream: true,
        json,
        headers: { 'anthropic-beta': 'context-1m-2025-08-07' },
      }),
    );
    expect(request.path).toBe(
      '/v1/projects/gatehouse-test/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5%4020250929:streamRawPredict',
    );
    expect(JSON.parse(String(request.body))).toEqual({
      stream: true,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
      anthropic_version: 'vertex-2023-10-16',
    });
    expect(request.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    const plain = await buildVertexRequest(credential, call({ model: CLAUDE_ON_VERTEX, json }));
    expect(plain.path).toMatch(/:rawPredict$/);
  });

  it('knows which models it serves and how', () => {
    const noBase = vertexTarget({ baseUrl: undefined });
    expect(vertexAdapter.servesModel(noBase, CLAUDE_ON_VERTEX)).toBe(true);
    expect(vertexAdapter.servesModel(noBase, GEMINI)).toBe(true);
    expect(vertexAdapter.servesModel(noBase, 'gpt-4o')).toBe(false);
    expect(vertexAdapter.translationDialect(CLAUDE_ON_VERTEX)).toBe('anthropic-messages');
    expect(vertexAdapter.translationDialect(GEMINI)).toBe('gemini');
    expect(vertexAdapter.translationDialect('gpt-4o')).toBeUndefined();
    expect(vertexAdapter.nativeApis).toEqual(['gemini-generate', 'gemini-count-tokens']);
  });
});

/**
 * Through the gateway with the official clients. The Anthropic client reaches Bedrock and Vertex
 * Claude through the translation codecs (neither speaks the Messages API at Anthropic's URLs),
 * so these need the codecs registered in translation/codecs.ts.
 */
describe('Bedrock and Vertex through the gateway', () => {
  let server: TestGatehouse;
  let key: string;
  let anthropic: Anthropic;

  beforeAll(async () => {
    server = await startTestGatehouse();
    const bedrock = await server.admin('POST', '/providers', {
      name: 'mock-bedrock',
      type: 'bedrock',
      baseUrl: mock.url,
      region: 'us-east-1',
      accessKeyId: MOCK_AWS_ACCESS_KEY_ID,
      secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY,
      models: [CLAUDE_ON_BEDROCK, NOVA],
    });
    const vertex = await server.admin('POST', '/providers', {
      name: 'mock-vertex',
      type: 'vertex',
      baseUrl: mock.url,
      projectId: 'gatehouse-test',
      location: 'us-east5',
      serviceAccountJson: serviceAccountJson(`${mock.url}/token`),
      models: [CLAUDE_ON_VERTEX, GEMINI],
    });
    await server.admin('POST', '/routing-policies', {
      name: 'clouds',
      providers: [bedrock.id, vertex.id],
      isDefault: true,
    });
    const project = await server.admin('POST', '/projects', { name: 'clouds' });
    key = (await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'laptop' })).key;
    anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const invokes = () => mock.requests.filter((request) => request.path.startsWith('/model/'));

  it('answers an Anthropic client from Bedrock InvokeModel', async () => {
    const message = await anthropic.messages.create({
      model: CLAUDE_ON_BEDROCK,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
    const [request] = invokes();
    expect(request?.path).toBe(`/model/${encodeURIComponent(CLAUDE_ON_BEDROCK)}/invoke`);
    expect(request?.body.anthropic_version).toBe('bedrock-2023-05-31');
    expect(request?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(JSON.stringify(mock.requests)).not.toContain(key);
  });

  it('streams an Anthropic client from Bedrock InvokeModelWithResponseStream', async () => {
    mock.enqueue({ text: 'Streamed from Bedrock.', usage: { inputTokens: 20, outputTokens: 5 } });
    const stream = anthropic.messages.stream({
      model: CLAUDE_ON_BEDROCK,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const message = await stream.finalMessage();
    expect(text).toBe('Streamed from Bedrock.');
    expect(message.usage.output_tokens).toBe(5);
    expect(invokes()[0]?.path).toBe(
      `/model/${encodeURIComponent(CLAUDE_ON_BEDROCK)}/invoke-with-response-stream`,
    );
  });

  it('passes a Bedrock throttle back to an Anthropic client as a 429', async () => {
    mock.enqueue({ status: 429 });
    const error = await anthropic.messages
      .create({ model: CLAUDE_ON_BEDROCK, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('hands an exception in a Bedrock stream to an Anthropic client as a stream error', async () => {
    mock.enqueue({ streamError: { afterEvents: 4 } });
    const stream = anthropic.messages.stream({
      model: CLAUDE_ON_BEDROCK,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/rate_limit_error|Too many requests|please wait/i);
  });

  it('meters Bedrock usage and prices it from the AWS catalogue', async () => {
    mock.enqueue({ usage: { inputTokens: 1_000, outputTokens: 100 } });
    await anthropic.messages.create({
      model: CLAUDE_ON_BEDROCK,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await server.flushUsage();
    const report = await server.admin<{ rows: { group: string; inputTokens: number; costUsd: number }[] }>(
      'GET',
      '/usage?groupBy=model',
    );
    const row = report.rows.find((candidate) => candidate.group === CLAUDE_ON_BEDROCK);
    expect(row?.inputTokens).toBeGreaterThanOrEqual(1_000);
    expect(row?.costUsd).toBeGreaterThan(0);
  });

  it('answers an OpenAI client from Bedrock Converse and ConverseStream', async () => {
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: NOVA,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    mock.enqueue({ toolCall: { name: 'get_weather', arguments: { city: 'Paris' } } });
    const stream = await openai.chat.completions.create({
      model: NOVA,
      stream: true,
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });
    let name = '';
    let args = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = choice?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    expect(invokes().map((request) => request.path)).toEqual([
      `/model/${encodeURIComponent(NOVA)}/converse`,
      `/model/${encodeURIComponent(NOVA)}/converse-stream`,
    ]);
  });

  it('answers an Anthropic client from Claude on Vertex rawPredict, streamed and not', async () => {
    const message = await anthropic.messages.create({
      model: CLAUDE_ON_VERTEX,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
    const stream = anthropic.messages.stream({
      model: CLAUDE_ON_VERTEX,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect((await stream.finalMessage()).content).toEqual([
      { type: 'text', text: 'Hello from the mock upstream.' },
    ]);
    const paths = mock.requests
      .map((request) => request.path)
      .filter((path) => path.startsWith('/v1/projects/'));
    expect(paths).toEqual([
      '/v1/projects/gatehouse-test/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5%4020250929:rawPredict',
      '/v1/projects/gatehouse-test/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5%4020250929:streamRawPredict',
    ]);
  });

  it('answers a Gemini client from Gemini on Vertex, byte for byte', async () => {
    const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${server.url}/api` } });
    const answer = await gemini.models.generateContent({ model: GEMINI, contents: 'hi' });
    expect(answer.text).toBe('Hello from the mock upstream.');
    let text = '';
    for await (const chunk of await gemini.models.generateContentStream({ model: GEMINI, contents: 'hi' })) {
      text += chunk.text ?? '';
    }
    expect(text).toBe('Hello from the mock upstream.');
    const paths = mock.requests
      .map((request) => request.path)
      .filter((path) => path.startsWith('/v1/projects/'));
    expect(paths).toEqual([
      '/v1/projects/gatehouse-test/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent',
      '/v1/projects/gatehouse-test/locations/us-east5/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ]);
  });
});
