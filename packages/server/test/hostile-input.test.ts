import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from './mock-upstream/mock-upstream.js';
import { type QuickStartGateway, startQuickStartGateway } from './support/harness.js';

/** A tool schema nested `depth` levels deep, as raw JSON text (no recursion to build it). */
function deepSchema(depth: number): string {
  return `${'{"type":"object","properties":{"x":'.repeat(depth)}{"type":"string"}${'}}'.repeat(depth)}`;
}

let gateway: QuickStartGateway;
let htmlServer: Server;
let htmlUrl: string;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  // What a misconfigured base URL often reaches: a web page (a proxy login, a captive portal).
  htmlServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Sign in to the proxy</title>');
  });
  await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve));
  htmlUrl = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => htmlServer?.close(resolve));
});

describe('input that makes the gateway itself fail', () => {
  it('is the caller’s 400 and never opens the provider’s breaker for everyone else', async () => {
    const { server, setup } = gateway;
    const body = `{"model":"gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"deep","input_schema":${deepSchema(5_000)}}]}`;
    // Translated (Anthropic client to an OpenAI credential) and passed through with a rewrite
    // (an OpenAI stream gets its usage chunk added): both walk the body.
    const calls = [
      {
        path: '/api/v1/messages',
        headers: { 'x-api-key': setup.key, 'anthropic-version': '2023-06-01' },
        body,
      },
      {
        path: '/api/v1/chat/completions',
        headers: { authorization: `Bearer ${setup.key}` },
        body: `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"deep","parameters":${deepSchema(5_000)}}}]}`,
      },
    ];
    for (let round = 0; round < 4; round++) {
      for (const call of calls) {
        const response = await fetch(`${server.url}${call.path}`, {
          method: 'POST',
          headers: { ...call.headers, 'content-type': 'application/json' },
          body: call.body,
        });
        expect(response.status).toBe(400);
        const error = (await response.json()) as { error: { message: string } };
        expect(error.error.message).toContain('more than 100 levels deep');
      }
    }
    // Eight refusals later the credential still serves an ordinary call.
    const openai = new OpenAI({ apiKey: setup.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.choices[0]?.message.content).toBeTruthy();
  });

  it('answers an Anthropic client in its own error shape', async () => {
    const { server, setup } = gateway;
    const anthropic = new Anthropic({ apiKey: setup.key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const tool = { name: 'deep', input_schema: JSON.parse(deepSchema(150)) };
    const failure = await anthropic.messages
      .create({
        model: 'gpt-4o-mini',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [tool],
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
    expect((failure as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });
});

describe('a provider that answers 200 with a web page', () => {
  async function keyOnChain(name: string, providers: string[]): Promise<{ key: string; id: string }> {
    const { server } = gateway;
    const policy = await server.admin('POST', '/routing-policies', { name, providers });
    const project = await server.admin('POST', '/projects', { name, routingPolicyId: policy.id });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name });
    return { key: key.key, id: key.id };
  }

  it('is a 502 naming the provider, passed through or translated, and is not metered as served', async () => {
    const { server } = gateway;
    const html = await server.admin('POST', '/providers', {
      name: 'proxy-page',
      type: 'openai',
      baseUrl: `${htmlUrl}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o-mini'],
    });
    const { key, id: keyId } = await keyOnChain('html only', [html.id]);
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const passedThrough = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(passedThrough).toBeInstanceOf(OpenAI.APIError);
    expect((passedThrough as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((passedThrough as Error).message).toContain("'proxy-page' answered with text/html");

    const anthropic = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const translated = await anthropic.messages
      .create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect((translated as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((translated as Error).message).toContain('proxy-page');

    await server.flushUsage();
    const usage = await server.admin('GET', '/usage?groupBy=key');
    const row = usage.rows.find((candidate: { group: string }) => candidate.group === keyId);
    const served = row?.costUsd ?? 0;
    expect(served).toBe(0);
  });

  it('falls back to the next credential in the chain', async () => {
    const { server, setup } = gateway;
    const html = await server.admin('POST', '/providers', {
      name: 'proxy-page-2',
      type: 'openai',
      baseUrl: `${htmlUrl}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o-mini'],
    });
    const { key } = await keyOnChain('html first', [html.id, setup.openAiProviderId]);
    const openai = new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-gatehouse-provider')).toBe('mock-openai');
  });
});
