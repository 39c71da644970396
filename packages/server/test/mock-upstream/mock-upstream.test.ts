import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './mock-upstream.js';

const KEY = 'sk-mock-upstream-key';
let mock: MockUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  mock = await startMockUpstream();
  openai = new OpenAI({ apiKey: KEY, baseURL: `${mock.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: KEY, baseURL: mock.url, maxRetries: 0 });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const userMsg = [{ role: 'user' as const, content: 'Hi' }];
const weather = { name: 'get_weather', arguments: { city: 'Zürich', unit: 'celsius', days: [1, 2] } };

async function rawSse(path: string, headers: Record<string, string>, body: unknown): Promise<string> {
  const res = await fetch(`${mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return res.text();
}
type OpenAIErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null };
};
const openaiErrorBody = async (res: Response) => (await res.json()) as OpenAIErrorBody;
const dataLines = (sse: string) =>
  sse
    .split('\n\n')
    .filter(Boolean)
    .map((f) => f.replace(/^data: /, ''));

describe('OpenAI chat completions', () => {
  it('answers non-streamed with a chat.completion object echoing the model', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: userMsg });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]?.message).toMatchObject({
      role: 'assistant',
      content: 'Hello from the mock upstream.',
    });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 });
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(mock.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(mock.requests[0]?.body.messages).toEqual(userMsg);
  });

  it('reports scenario usage incl. cached and reasoning tokens', async () => {
    mock.enqueue({
      text: 'custom',
      usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 40, reasoningTokens: 20 },
    });
    const res = await openai.chat.completions.create({ model: 'o4-mini', messages: userMsg });
    expect(res.choices[0]?.message.content).toBe('custom');
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(40);
    expect(res.usage?.completion_tokens_details?.reasoning_tokens).toBe(20);
    expect(res.usage?.total_tokens).toBe(150);
  });

  it('streams text in several chunks without usage unless include_usage', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages: userMsg, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'Hello from the mock upstream.',
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });

  it('with include_usage: usage:null on every chunk, then a choices:[] usage chunk before [DONE]', async () => {
    mock.enqueue({ usage: { inputTokens: 5, outputTokens: 3, cacheReadTokens: 2 } });
    const sse = await rawSse(
      '/v1/chat/completions',
      { authorization: `Bearer ${KEY}` },
      { model: 'gpt-4o', messages: userMsg, stream: true, stream_options: { include_usage: true } },
    );
    const lines = dataLines(sse);
    expect(lines.at(-1)).toBe('[DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l));
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(last.usage.prompt_tokens_details.cached_tokens).toBe(2);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('streams tool calls that the SDK helper accumulates', async () => {
    mock.enqueue({ toolCall: weather });
    const stream = openai.chat.completions.stream({
      model: 'gpt-4o',
      messages: userMsg,
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(weather.arguments);
    expect(final.usage?.completion_tokens).toBe(7);
  });

  it('surfaces error statuses as typed SDK errors with headers', async () => {
    mock.enqueue({ status: 429, headers: { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' } });
    const err = await openai.chat.completions.create({ model: 'gpt-4o', messages: userMsg }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers.get('retry-after')).toBe('7');
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0');

    mock.enqueue({ status: 500 });
    const err500 = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: userMsg })
      .catch((e) => e);
    expect(err500).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err500.type).toBe('server_error');
  });

  it('rejects a wrong or missing key with 401 and malformed JSON with 400', async () => {
    const bad = new OpenAI({ apiKey: 'sk-virtual-key', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: 'gpt-4o', messages: userMsg }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe('invalid_api_key');
    const noKey = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect((await openaiErrorBody(noKey)).error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
    });
    const malformed = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: '{oops',
    });
    expect(malformed.status).toBe(400);
    expect((await openaiErrorBody(malformed)).error.type).toBe('invalid_request_error');
  });

  it('lists models and 404s unknown paths', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o');
    const res = await fetch(`${mock.url}/v1/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(404);
    expect((await openaiErrorBody(res)).error.message).toBe('Invalid URL (GET /v1/nope)');
  });

  it('mid-stream error surfaces as APIError; a cut stream fails the iteration', async () => {
    mock.enqueue({ streamError: { afterEvents: 2 } }, { cutAfterEvents: 2 });
    const s1 = await openai.chat.completions.create({ model: 'gpt-4o', messages: userMsg, stream: true });
    await expect(
      (async () => {
        for await (const _ of s1);
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    const s2 = await openai.chat.completions.create({ model: 'gpt-4o', messages: userMsg, stream: true });
    let seen = 0;
    const done = (async () => {
      for await (const _ of s2) seen++;
    })();
    await expect(done).rejects.toThrow();
    expect(seen).toBe(2);
  });
});

describe('Anthropic messages', () => {
  const params = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: userMsg };

  it('answers non-streamed with a message object echoing the model', async () => {
    const msg = await anthropic.messages.create(params);
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5' });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage).toMatchObject({ input_tokens: 13, output_tokens: 7, cache_read_input_tokens: 0 });
    // @anthropic-ai/sdk 1.x sends the api key as `Authorization: Bearer`; older ones used x-api-key.
    const h = mock.requests[0]?.headers ?? {};
    expect(h['x-api-key'] ?? h.authorization).toMatch(new RegExp(`^(Bearer )?${KEY}$`));
    expect(h['anthropic-version']).toBeTruthy();
  });

  it('streams text with cumulative usage', async () => {
    mock.enqueue({ usage: { inputTokens: 30, outputTokens: 9, cacheReadTokens: 20, cacheWriteTokens: 10 } });
    const stream = anthropic.messages.stream(params);
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: 'Hello from the mock upstream.' }]);
    expect(final.usage).toMatchObject({
      input_tokens: 30,
      output_tokens: 9,
      cache_read_input_tokens: 20,
      cache_creation_input_tokens: 10,
    });
    expect(types.slice(0, 2)).toEqual(['message_start', 'content_block_start']);
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(2);
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('uses event: framing and output_tokens 1 in message_start (x-api-key, ?beta=true)', async () => {
    const sse = await rawSse(
      '/v1/messages?beta=true',
      { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
      { ...params, stream: true },
    );
    const frames = sse.split('\n\n').filter(Boolean);
    for (const f of frames) {
      const [ev, data] = f.split('\n');
      expect(ev?.slice(7)).toBe(JSON.parse(data?.slice(6) ?? '').type);
    }
    const start = JSON.parse(frames[0]?.split('\n')[1]?.slice(6) ?? '');
    expect(start.message.usage.output_tokens).toBe(1);
    expect(frames[2]).toBe('event: ping\ndata: {"type":"ping"}');
    expect(mock.requests[0]?.path).toBe('/v1/messages?beta=true');
  });

  it('streams tool_use with input_json_delta and thinking blocks', async () => {
    mock.enqueue({ toolCall: weather, thinking: 'Let me check the weather.' });
    const final = await anthropic.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'Let me check the weather.' });
    expect(final.content[1]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: weather.arguments,
    });
  });

  it('surfaces error statuses as typed SDK errors with headers', async () => {
    mock.enqueue({
      status: 429,
      headers: { 'retry-after': '3', 'anthropic-ratelimit-requests-remaining': '0' },
    });
    const err = await anthropic.messages.create(params).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(err.headers.get('retry-after')).toBe('3');
    expect(err.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');

    mock.enqueue({ status: 529 });
    const err529 = await anthropic.messages.create(params).catch((e) => e);
    expect(err529.status).toBe(529);
    expect(err529.error.error.type).toBe('overloaded_error');
  });

  it('mid-stream error event surfaces as APIError', async () => {
    mock.enqueue({ streamError: { afterEvents: 4 } });
    const err = await anthropic.messages
      .stream(params)
      .finalMessage()
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain('overloaded_error');
  });

  it('rejects wrong/missing keys with 401 and a missing version with 400', async () => {
    const bad = new Anthropic({ apiKey: 'sk-virtual-key', baseURL: mock.url, maxRetries: 0 });
    const err = await bad.messages.create(params).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.error.error.type).toBe('authentication_error');
    const noKey = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const noVersion = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY },
    });
    expect(noVersion.status).toBe(400);
    const bearer = new Anthropic({ authToken: KEY, apiKey: null, baseURL: mock.url, maxRetries: 0 });
    expect((await bearer.messages.create(params)).type).toBe('message');
  });
});

describe('mock controls', () => {
  it('applies queued scenarios FIFO, then the default; record:false records nothing', async () => {
    mock.setDefault({ text: 'default' });
    mock.enqueue({ text: 'one' }, { text: 'two' });
    const texts = [];
    for (let i = 0; i < 3; i++) {
      const r = await openai.chat.completions.create({ model: 'm', messages: userMsg });
      texts.push(r.choices[0]?.message.content);
    }
    expect(texts).toEqual(['one', 'two', 'default']);

    const quiet = await startMockUpstream({ record: false, apiKey: 'other' });
    const client = new OpenAI({ apiKey: 'other', baseURL: `${quiet.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'm', messages: userMsg });
    expect(quiet.requests).toHaveLength(0);
    await quiet.close();
  });

  it('survives client aborts mid-stream', async () => {
    mock.enqueue({ eventDelayMs: 20 });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: 'm', messages: userMsg, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    // The SDK ends the iteration quietly on abort.
    for await (const _ of stream) {
      seen++;
      controller.abort();
    }
    expect(seen).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    const ok = await openai.chat.completions.create({ model: 'm', messages: userMsg });
    expect(ok.choices[0]?.message.content).toBe('Hello from the mock upstream.');
  });

  it('main.ts prints its url and exits on SIGTERM', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, PORT: '0', MOCK_RECORD: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
    expect(line).toMatch(/^mock upstream listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
