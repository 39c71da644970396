/**
 * The Anthropic ⇄ OpenAI Chat pair end to end, through the neutral model: the path Claude Code
 * takes to an OpenAI upstream (and OpenAI clients to Anthropic).
 */
import { describe, expect, it } from 'vitest';
import {
  fixtureJson,
  fixtureText,
  sseEvents,
} from './__fixtures__/anthropic-messages-openai-chat.support.js';
import { anthropicMessagesCodec as anthropic } from './anthropic-messages/index.js';
import type { DialectCodec } from './neutral.js';
import { createOpenAiChatCodec } from './openai-chat/index.js';

const openAi = createOpenAiChatCodec({ now: () => 1754956999000 });

/** Provider stream text → client stream text, event by event, as the gateway relays it. */
function relayStream(text: string, provider: DialectCodec, client: DialectCodec): string {
  const parser = provider.createStreamParser();
  const renderer = client.createStreamRenderer();
  let out = '';
  for (const wire of sseEvents(text)) for (const event of parser.push(wire)) out += renderer.push(event);
  for (const event of parser.end()) out += renderer.push(event);
  return out + renderer.end();
}

/** Anthropic SSE as `event` names with block types and delta types, for sequence checks. */
function anthropicSequence(text: string): string[] {
  return sseEvents(text).map(({ event, data }) => {
    const payload = JSON.parse(data) as {
      index?: number;
      content_block?: { type: string };
      delta?: { type?: string; stop_reason?: string };
    };
    if (event === 'content_block_start') return `${event}:${payload.index}:${payload.content_block?.type}`;
    if (event === 'content_block_delta') return `${event}:${payload.index}:${payload.delta?.type}`;
    if (event === 'content_block_stop') return `${event}:${payload.index}`;
    if (event === 'message_delta') return `${event}:${payload.delta?.stop_reason}`;
    return String(event);
  });
}

describe('Anthropic request → OpenAI Chat request', () => {
  const fixture = fixtureJson<{ wire: Record<string, unknown> }>('anthropic-messages-request-tools.json');
  const neutral = anthropic.parseRequest(fixture.wire).value;
  const rendered = openAi.renderRequest(neutral);

  it('renders the exact Chat Completions body', () => {
    expect(rendered.value).toEqual({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'You are Claude Code.' },
        { role: 'system', content: 'Work in /repo.' },
        { role: 'user', content: 'Weather in Paris, and show the radar.' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'toolu_01A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
            },
            {
              id: 'toolu_01B',
              type: 'function',
              function: { name: 'get_radar', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C, cloudy' },
        { role: 'tool', tool_call_id: 'toolu_01B', content: 'radar:' },
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }],
        },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city.',
            parameters: {
              type: 'object',
              properties: {
                location: { type: 'string' },
                unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
              },
              required: ['location'],
            },
          },
        },
        {
          type: 'function',
          function: {
            name: 'get_radar',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_completion_tokens: 16000,
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'medium',
    });
  });

  it('warns about everything it bent', () => {
    expect(rendered.warnings.map((warning) => `${warning.kind}:${warning.feature}`)).toEqual([
      'dropped:reasoning',
      'dropped:tool_result.is_error',
      'approximated:tool_result.image',
      'approximated:thinking.budget_tokens',
    ]);
  });

  it('comes back to Anthropic with the same conversation, minus what OpenAI cannot carry', () => {
    const back = anthropic.renderRequest(openAi.parseRequest(rendered.value).value).value;
    const original = anthropic.renderRequest(neutral).value as {
      messages: { role: string; content: unknown[] }[];
    };
    const messages = back.messages as { role: string; content: { type: string }[] }[];
    expect(messages[0]).toEqual(original.messages[0]);
    expect(messages[1]?.content.map((block) => block.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect(messages[2]?.content.map((block) => block.type)).toEqual(['tool_result', 'tool_result']);
    expect(messages[3]?.content.map((block) => block.type)).toEqual(['image']);
    expect(back.tools).toEqual(original.tools);
    expect(back.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
  });
});

describe('OpenAI Chat request → Anthropic request', () => {
  it('renders the exact Messages body, with tool messages as one user turn of tool results', () => {
    const fixture = fixtureJson<{ wire: Record<string, unknown> }>('openai-chat-request-tools.json');
    const rendered = anthropic.renderRequest(openAi.parseRequest(fixture.wire).value);
    expect(rendered.value).toEqual({
      model: 'o4-mini',
      max_tokens: 4096,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Lyon?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Lyon' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18°C' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '21°C' },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'Thanks, and tomorrow?' }] },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather.',
          input_schema: {
            type: 'object',
            properties: { location: { type: 'string' } },
            required: ['location'],
          },
        },
      ],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: false },
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 4095 },
    });
    expect(rendered.warnings.map((warning) => `${warning.kind}:${warning.feature}`)).toEqual([
      'clamped:max_tokens',
      'approximated:reasoning_effort',
      'clamped:thinking.budget_tokens',
    ]);
  });
});

describe('OpenAI Chat stream → Anthropic SSE', () => {
  it('streams text as one text block, with usage from the final chunk', () => {
    const text = relayStream(fixtureText('openai-chat-stream-text.chunks.txt'), openAi, anthropic);
    expect(anthropicSequence(text)).toEqual([
      'message_start',
      'content_block_start:0:text',
      ...Array(5).fill('content_block_delta:0:text_delta'),
      'content_block_stop:0',
      'message_delta:end_turn',
      'message_stop',
    ]);
    expect(text).toContain(
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":210,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":57}}\n\n',
    );
  });

  it('streams a tool call as a tool_use block with input_json_delta pieces that join to the arguments', () => {
    const text = relayStream(fixtureText('openai-chat-stream-tools.chunks.txt'), openAi, anthropic);
    expect(anthropicSequence(text)).toEqual([
      'message_start',
      'content_block_start:0:tool_use',
      ...Array(10).fill('content_block_delta:0:input_json_delta'),
      'content_block_stop:0',
      'message_delta:tool_use',
      'message_stop',
    ]);
    expect(text).toContain(
      '"content_block":{"type":"tool_use","id":"call_Qm3x8ZtY1pWv7rK2","name":"get_weather","input":{}}',
    );
    const json = sseEvents(text)
      .map(({ data }) => JSON.parse(data) as { delta?: { partial_json?: string } })
      .map((payload) => payload.delta?.partial_json ?? '')
      .join('');
    expect(JSON.parse(json)).toEqual({ location: 'Paris, France', unit: 'celsius' });
  });

  it('streams reasoning_content as a thinking block before the text', () => {
    const text = relayStream(fixtureText('openai-chat-stream-reasoning.chunks.txt'), openAi, anthropic);
    expect(anthropicSequence(text)).toEqual([
      'message_start',
      'content_block_start:0:thinking',
      'content_block_delta:0:thinking_delta',
      'content_block_delta:0:thinking_delta',
      'content_block_stop:0',
      'content_block_start:1:text',
      'content_block_delta:1:text_delta',
      'content_block_stop:1',
      'message_delta:max_tokens',
      'message_stop',
    ]);
  });
});

describe('Anthropic stream → OpenAI Chat chunks', () => {
  it('streams thinking, text and a tool call as chunks with usage and [DONE]', () => {
    const text = relayStream(fixtureText('anthropic-messages-stream-tools.chunks.txt'), anthropic, openAi);
    // The Anthropic ping became an SSE comment (`: keepalive`), which carries no data.
    const chunks = sseEvents(text).flatMap(({ data }) => (data === '' ? [] : [data]));
    expect(text).toContain(': keepalive\n\n');
    expect(chunks.at(-1)).toBe('[DONE]');
    const parsed = chunks.slice(0, -1).map((data) => JSON.parse(data) as Record<string, unknown>);
    const deltas = parsed.map(
      (chunk) => (chunk.choices as { delta: Record<string, unknown>; finish_reason: string | null }[])[0],
    );
    expect(deltas[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(deltas.filter((choice) => choice?.delta.reasoning_content).length).toBe(2);
    expect(
      deltas
        .flatMap((choice) => (typeof choice?.delta.content === 'string' ? [choice.delta.content] : []))
        .join(''),
    ).toBe('Je vérifie la météo à Paris…');
    expect(deltas.find((choice) => choice?.delta.tool_calls)?.delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
    ]);
    expect(deltas.at(-2)?.finish_reason).toBe('tool_calls');
    expect(parsed.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 12763,
        completion_tokens: 89,
        total_tokens: 12852,
        prompt_tokens_details: { cached_tokens: 10240 },
      },
    });
    expect(
      parsed.every((chunk) => chunk.id === 'msg_01XFDUDYJgAACzvnptvVoYEL' && chunk.created === 1754956999),
    ).toBe(true);
  });

  it('passes an overloaded error on as an error chunk, without [DONE]', () => {
    const text = relayStream(
      fixtureText('anthropic-messages-stream-overloaded.chunks.txt'),
      anthropic,
      openAi,
    );
    expect(
      text.endsWith(
        'data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}\n\n',
      ),
    ).toBe(true);
    expect(text).not.toContain('[DONE]');
  });
});
