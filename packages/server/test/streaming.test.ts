import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usageEvents } from '../src/store/schema.js';
import { MOCK_UPSTREAM_API_KEY, type MockUpstream } from './mock-upstream/mock-upstream.js';
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

const anthropicBody = JSON.stringify({
  model: 'claude-sonnet-4-6',
  max_tokens: 100,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

function streamThroughGateway(key = setup.key, signal?: AbortSignal) {
  return fetch(`${server.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: anthropicBody,
    signal,
  });
}

/** Ids and timestamps differ per response; everything else must match byte for byte. */
function normalise(stream: string): string {
  return stream
    .replace(/(msg|chatcmpl|toolu|call)_?[-A-Za-z0-9]+/g, '$1_ID')
    .replace(/"created":\d+/g, '"created":0');
}

async function usageRowsFor(keyId: string) {
  await server.flushUsage();
  return server.gatehouse.storage.db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));
}

describe('streams pass through', () => {
  it('delivers every Anthropic event, ping included, unchanged and in order', async () => {
    mock.setDefault({
      toolCall: { name: 'lookup', arguments: { q: 'gatehouse' } },
      thinking: 'Let me look.',
    });
    const direct = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': MOCK_UPSTREAM_API_KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: anthropicBody,
    });
    const viaGateway = await streamThroughGateway();
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    const gatewayText = await viaGateway.text();
    expect(normalise(gatewayText)).toBe(normalise(await direct.text()));
    expect(gatewayText).toContain('event: ping');
  });

  it('delivers OpenAI chunks unchanged when the client asked for usage itself', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const direct = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MOCK_UPSTREAM_API_KEY}`, 'content-type': 'application/json' },
      body,
    });
    const viaGateway = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' },
      body,
    });
    expect(normalise(await viaGateway.text())).toBe(normalise(await direct.text()));
    // The client's own bytes went upstream: no rewrite was needed.
    expect(mock.requests.at(-1)?.rawBody).toBe(body);
  });

  it('forwards each event as it arrives instead of buffering the stream', async () => {
    mock.enqueue({ eventDelayMs: 120 });
    const response = await streamThroughGateway();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const arrivals: { at: number; text: string }[] = [];
    for (let reads = 0; reads < 200; reads++) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push({ at: performance.now(), text: decoder.decode(value, { stream: true }) });
    }
    const first = arrivals.find((arrival) => arrival.text.includes('message_start'));
    const last = arrivals.find((arrival) => arrival.text.includes('message_stop'));
    expect(first && last).toBeTruthy();
    // Twelve gaps of 120 ms upstream: a buffering gateway would deliver both at the same moment.
    expect((last?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThan(1_000);
    expect(arrivals.length).toBeGreaterThan(5);
  });
});

describe('streams cut short', () => {
  it('aborts the upstream when the client disconnects, and still meters what was delivered', async () => {
    const key = await server.admin('POST', '/virtual-keys', {
      projectId: setup.projectId,
      name: 'disconnect',
    });
    mock.enqueue({ eventDelayMs: 300 });
    const before = mock.unfinishedResponses;
    const controller = new AbortController();
    const response = await streamThroughGateway(key.key, controller.signal);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('message_start');
    controller.abort();

    // The mock's stream would run for ~4 s; the gateway must hang up on it long before.
    await eventually(
      async () => mock.unfinishedResponses,
      (count) => count > before,
      2_000,
    );
    expect(mock.unfinishedResponses).toBe(before + 1);

    const rows = await eventually(
      () => usageRowsFor(key.id),
      (found) => found.length === 1,
    );
    expect(rows[0]).toMatchObject({ errorCode: 'client_closed', status: 200, streamed: true });
    // message_start reported the input tokens before the disconnect.
    expect(rows[0]?.inputTokens).toBeGreaterThan(0);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
  });

  it('charges an Anthropic stream whose upstream dies mid-way for what was delivered', async () => {
    const key = await server.admin('POST', '/virtual-keys', {
      projectId: setup.projectId,
      name: 'upstream-dies',
    });
    mock.enqueue({ cutAfterEvents: 6, text: 'one two three four five six seven eight' });
    const anthropic = new Anthropic({ apiKey: key.key, baseURL: `${server.url}/api`, maxRetries: 0 });
    let delivered = '';
    const failure = await (async () => {
      const stream = anthropic.messages.stream({
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'count' }],
      });
      stream.on('text', (text) => {
        delivered += text;
      });
      await stream.finalMessage();
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(Error);
    expect(delivered.length).toBeGreaterThan(0);

    const rows = await eventually(
      () => usageRowsFor(key.id),
      (found) => found.length === 1,
    );
    expect(rows[0]).toMatchObject({ errorCode: 'upstream_failed', usageEstimated: true });
    expect(rows[0]?.outputTokens).toBeGreaterThan(0);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
  });

  it('charges an OpenAI stream whose upstream dies before its usage chunk', async () => {
    const key = await server.admin('POST', '/virtual-keys', {
      projectId: setup.projectId,
      name: 'openai-dies',
    });
    mock.enqueue({ cutAfterEvents: 4 });
    const openai = new OpenAI({ apiKey: key.key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });
    let delivered = '';
    const failure = await (async () => {
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'hello there' }],
      });
      for await (const chunk of stream) delivered += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(Error);
    expect(delivered.length).toBeGreaterThan(0);

    const rows = await eventually(
      () => usageRowsFor(key.id),
      (found) => found.length === 1,
    );
    expect(rows[0]).toMatchObject({ errorCode: 'upstream_failed', usageEstimated: true });
    expect(rows[0]?.inputTokens).toBeGreaterThan(0);
    expect(rows[0]?.outputTokens).toBeGreaterThan(0);
    expect(rows[0]?.costUsd).toBeGreaterThan(0);
  });
});
