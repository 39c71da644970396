import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockUpstream } from './mock-upstream/mock-upstream.js';
import {
  eventually,
  type QuickStart,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';

let mock: MockUpstream;
let server: TestGatehouse;
let setup: QuickStart;

let gateway: QuickStartGateway | undefined;

beforeAll(async () => {
  gateway = await startQuickStartGateway();
  ({ mock, server, setup } = gateway);
});
afterAll(() => gateway?.close());
beforeEach(() => mock.reset());

async function freshClient() {
  const key = await server.admin('POST', '/virtual-keys', { projectId: setup.projectId, name: 'apis' });
  return {
    keyId: key.id as string,
    openai: new OpenAI({ apiKey: key.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: key.key, baseURL: `${server.url}/api`, maxRetries: 0 }),
  };
}

async function usageOf(keyId: string, requests: number) {
  const rows = await eventually(
    async () => {
      await server.flushUsage();
      return (await server.admin('GET', '/usage?groupBy=key')).rows as Record<string, number | string>[];
    },
    (found) => found.find((row) => row.group === keyId)?.requests === requests,
  );
  return rows.find((row) => row.group === keyId);
}

describe('OpenAI Responses, embeddings and Anthropic count_tokens pass through', () => {
  it('answers the Responses API, streamed and not, and meters both', async () => {
    const { openai, keyId } = await freshClient();
    mock.enqueue(
      { usage: { inputTokens: 30, outputTokens: 6 } },
      { usage: { inputTokens: 50, outputTokens: 9 } },
    );
    const response = await openai.responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(response.output_text).toBe('Hello from the mock upstream.');

    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'hi again', stream: true });
    let text = '';
    let completed = false;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = true;
    }
    expect(text).toBe('Hello from the mock upstream.');
    expect(completed).toBe(true);
    expect(mock.requests.map((request) => request.path)).toEqual(['/v1/responses', '/v1/responses']);

    const row = await usageOf(keyId, 2);
    expect(row).toMatchObject({ inputTokens: 80, outputTokens: 15 });
  });

  it('streams a Responses function call with its arguments', async () => {
    const { openai } = await freshClient();
    mock.enqueue({ toolCall: { name: 'shell', arguments: { command: ['ls', '-la'] } } });
    const stream = openai.responses.stream({
      model: 'gpt-4o',
      input: 'list files',
      tools: [
        { type: 'function', name: 'shell', parameters: { type: 'object', properties: {} }, strict: false },
      ],
    });
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' && JSON.parse(call.arguments)).toEqual({ command: ['ls', '-la'] });
  });

  it('answers embeddings and meters their tokens', async () => {
    const { openai, keyId } = await freshClient();
    const embeddings = await openai.embeddings.create({ model: 'gpt-4o', input: ['one', 'two'] });
    expect(embeddings.data).toHaveLength(2);
    const row = await usageOf(keyId, 1);
    expect(row).toMatchObject({ inputTokens: 10, outputTokens: 0 });
  });

  it('counts Anthropic tokens without charging for it', async () => {
    const { anthropic, keyId } = await freshClient();
    const counted = await anthropic.messages.countTokens({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'how many tokens is this?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(mock.requests[0]?.path).toBe('/v1/messages/count_tokens');
    const row = await usageOf(keyId, 1);
    expect(row).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
  });
});
