import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY } from './mock-upstream/bedrock.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * What Claude Code needs from a gateway in front of a provider that is not Anthropic: pings in
 * the silent gaps of a translated stream, and its Anthropic-API-only betas bridged (dropped with
 * a warning) rather than refused by the provider.
 */
const CLAUDE_ON_BEDROCK = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

let mock: MockUpstream;
let server: TestGatehouse;
let key: string;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse({ GATEHOUSE_STREAM_KEEPALIVE_MS: '150' });
  const openai = await server.admin('POST', '/providers', {
    name: 'openai',
    type: 'openai',
    baseUrl: `${mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o'],
  });
  const bedrock = await server.admin('POST', '/providers', {
    name: 'bedrock',
    type: 'bedrock',
    baseUrl: mock.url,
    region: 'us-east-1',
    accessKeyId: MOCK_AWS_ACCESS_KEY_ID,
    secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY,
    models: [CLAUDE_ON_BEDROCK],
  });
  await server.admin('POST', '/routing-policies', {
    name: 'p',
    providers: [openai.id, bedrock.id],
    isDefault: true,
  });
  const project = await server.admin('POST', '/projects', { name: 'bridging' });
  key = (await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'k' })).key;
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

function messages(model: string, extraHeaders: Record<string, string> = {}) {
  return fetch(`${server.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: {
      'x-api-key': key,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      ...extraHeaders,
    },
    body: JSON.stringify({
      model,
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
}

describe('bridging Anthropic clients to other providers', () => {
  it('renders ping events into the silent gaps of a translated stream', async () => {
    mock.enqueue({ eventDelayMs: 400 });
    const response = await messages('gpt-4o');
    const text = await response.text();
    const pings = text.split('\n').filter((line) => line === 'event: ping').length;
    expect(pings).toBeGreaterThan(2);
    expect(text).toContain('event: message_stop');
    // Pings sit between events, never inside one.
    for (const block of text.split('\n\n').filter((part) => part.includes('event: ping'))) {
      expect(block.trim()).toBe('event: ping\ndata: {"type":"ping"}');
    }
  });

  it('drops the betas Bedrock does not offer, forwards the ones it does, and says which were dropped', async () => {
    const response = await messages(CLAUDE_ON_BEDROCK, {
      'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('event: message_stop');
    const warnings = response.headers.get('x-gatehouse-warnings') ?? '';
    expect(warnings).toContain('dropped:anthropic-beta:claude-code-20250219');
    expect(warnings).toContain('dropped:anthropic-beta:oauth-2025-04-20');
    expect(warnings).not.toContain('interleaved-thinking');
    const sent = mock.requests.find((request) => request.path.includes('/invoke'));
    expect(sent?.body.anthropic_beta).toEqual(['interleaved-thinking-2025-05-14']);
    expect(sent?.headers['anthropic-beta']).toBeUndefined();
  });
});

describe('counting tokens without a provider that counts', () => {
  it('answers Claude Code with an estimate, flagged as approximated, for a model served on Bedrock', async () => {
    const response = await fetch(`${server.url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: CLAUDE_ON_BEDROCK,
        messages: [{ role: 'user', content: 'x'.repeat(400) }],
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gatehouse-warnings')).toBe('approximated:count_tokens');
    const { input_tokens: inputTokens } = (await response.json()) as { input_tokens: number };
    expect(inputTokens).toBeGreaterThanOrEqual(100);
    expect(mock.requests).toHaveLength(0);
  });

  it('still refuses a model nothing serves', async () => {
    const response = await fetch(`${server.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(404);
  });
});
