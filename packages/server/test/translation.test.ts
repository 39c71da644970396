import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { eventually, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * Clients reaching a provider that speaks another dialect: the gateway translates the request,
 * the answer (streamed event by event) and the errors, and meters the translated usage.
 */
let mock: MockUpstream;
let server: TestGatehouse;
let key: string;
let keyId: string;

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  const openai = await server.admin('POST', '/providers', {
    name: 'openai-upstream',
    type: 'openai',
    baseUrl: `${mock.url}/v1`,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['gpt-4o'],
  });
  const anthropic = await server.admin('POST', '/providers', {
    name: 'anthropic-upstream',
    type: 'anthropic',
    baseUrl: mock.url,
    apiKey: MOCK_UPSTREAM_API_KEY,
    models: ['claude-sonnet-4-6'],
  });
  await server.admin('POST', '/routing-policies', {
    name: 'both',
    providers: [openai.id, anthropic.id],
    isDefault: true,
    modelAliases: { smart: 'claude-sonnet-4-6' },
  });
  const project = await server.admin('POST', '/projects', { name: 'translation' });
  const created = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'translation' });
  key = created.key;
  keyId = created.id;
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic client → OpenAI upstream', () => {
  const anthropic = () => new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });

  it('translates a message and its answer, and says so in the served-by header', async () => {
    const response = await anthropic()
      .messages.create({
        model: 'gpt-4o',
        max_tokens: 50,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'hi' }],
      })
      .withResponse();
    expect(response.data.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
    expect(response.data.stop_reason).toBe('end_turn');
    expect(response.response.headers.get('x-gatehouse-provider')).toBe('openai-upstream');
    const sent = mock.requests[0];
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(sent?.body.max_tokens ?? sent?.body.max_completion_tokens).toBe(50);
  });

  it('streams the translated answer with a tool call, as Claude Code would receive it', async () => {
    mock.enqueue({ toolCall: { name: 'get_weather', arguments: { city: 'Porto' } } });
    const final = await anthropic()
      .messages.stream({
        model: 'gpt-4o',
        max_tokens: 50,
        tools: [weatherTool],
        messages: [{ role: 'user', content: 'weather in Porto?' }],
      })
      .finalMessage();
    const toolUse = final.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' && toolUse.name).toBe('get_weather');
    expect(toolUse?.type === 'tool_use' && toolUse.input).toEqual({ city: 'Porto' });
    expect(final.stop_reason).toBe('tool_use');
    expect(mock.requests[0]?.body.tools[0].function.name).toBe('get_weather');
    // The gateway asked the OpenAI upstream for its usage chunk, to meter the translated stream.
    expect(mock.requests[0]?.body.stream_options).toEqual({ include_usage: true });
  });

  it('sends tool results back in the provider dialect', async () => {
    await anthropic().messages.create({
      model: 'gpt-4o',
      max_tokens: 50,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather in Porto?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Porto' } }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C and sunny' }],
        },
      ],
    });
    const messages = mock.requests[0]?.body.messages;
    expect(messages[1].tool_calls[0]).toMatchObject({ id: 'toolu_1', function: { name: 'get_weather' } });
    expect(JSON.parse(messages[1].tool_calls[0].function.arguments)).toEqual({ city: 'Porto' });
    expect(messages[2]).toMatchObject({ role: 'tool', tool_call_id: 'toolu_1', content: '18°C and sunny' });
  });

  it("re-shapes the provider's error for the client's SDK, keeping status and retry-after", async () => {
    mock.enqueue({ status: 429, headers: { 'retry-after': '9' } });
    const error = await anthropic()
      .messages.create({ model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('9');
  });
});

describe('OpenAI client → Anthropic upstream', () => {
  const openai = () => new OpenAI({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });

  it('translates chat completions through a model alias, streamed, and meters the usage', async () => {
    mock.enqueue({ usage: { inputTokens: 44, outputTokens: 7 } });
    const stream = await openai().chat.completions.create({
      model: 'smart',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Hello from the mock upstream.');
    expect(finish).toBe('stop');
    const sent = mock.requests[0];
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.body).toMatchObject({ model: 'claude-sonnet-4-6', system: 'Be brief.' });
    expect(sent?.body.max_tokens).toBeGreaterThan(0);

    const rows = await eventually(
      async () => {
        await server.flushUsage();
        return (await server.admin('GET', '/usage?groupBy=model')).rows as Record<string, number | string>[];
      },
      (found) => found.some((row) => row.group === 'claude-sonnet-4-6'),
    );
    expect(rows.find((row) => row.group === 'claude-sonnet-4-6')).toMatchObject({
      inputTokens: 44,
      outputTokens: 7,
    });
    void keyId;
  });

  it('translates a tool call into OpenAI tool_calls', async () => {
    mock.enqueue({ toolCall: { name: 'get_weather', arguments: { city: 'Faro' } } });
    const completion = await openai().chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'weather in Faro?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema } }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Faro' });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers the Responses API (what Codex speaks) from an Anthropic upstream, streamed', async () => {
    const stream = await openai().responses.create({ model: 'claude-sonnet-4-6', input: 'hi', stream: true });
    let text = '';
    let completed = false;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = true;
    }
    expect(text).toBe('Hello from the mock upstream.');
    expect(completed).toBe(true);
  });

  it("passes the provider's in-stream error on in the client's dialect and ends the stream cleanly", async () => {
    mock.enqueue({ streamError: { afterEvents: 4, type: 'overloaded_error', message: 'Overloaded' } });
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const text = await response.text(); // a destroyed connection would reject here
    expect(text).toContain('"error"');
    expect(text).toContain('Overloaded');

    mock.enqueue({ streamError: { afterEvents: 4, type: 'overloaded_error', message: 'Overloaded' } });
    const failure = await (async () => {
      const stream = await openai().chat.completions.create({
        model: 'claude-sonnet-4-6',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      for await (const _chunk of stream) {
        // the SDK throws on the error chunk
      }
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('Overloaded');
  });

  it('refuses what cannot be translated with a clear 400 in the caller dialect', async () => {
    const error = await openai()
      .responses.create({ model: 'claude-sonnet-4-6', input: 'hi', previous_response_id: 'resp_123' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('previous_response_id');
    expect(mock.requests).toHaveLength(0);
  });

  it('reports what translation dropped in x-gatehouse-warnings', async () => {
    const response = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: 'hi' }],
        frequency_penalty: 0.5,
        logit_bias: { '50256': -100 },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-gatehouse-warnings')).toMatch(/dropped:/);
  });
});
