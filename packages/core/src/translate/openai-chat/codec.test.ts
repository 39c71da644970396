import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import {
  fixtureJson,
  fixtureText,
  sseEvents,
} from '../__fixtures__/anthropic-messages-openai-chat.support.js';
import type { NeutralStreamEvent, TranslationWarning } from '../neutral.js';
import { createOpenAiChatCodec, createOpenAiChatStreamRendererWith } from './index.js';

/** A fixed clock: `created` is the only value a Chat Completions renderer invents. */
const clock = { now: () => 1754956999000 };
const codec = createOpenAiChatCodec(clock);

interface Case {
  wire: Record<string, unknown>;
  neutral: unknown;
  warnings: TranslationWarning[];
  rendered?: Record<string, unknown>;
  renderWarnings: TranslationWarning[];
}

const requestCases = ['text', 'tools', 'images', 'warnings'];
const responseCases = ['text', 'tools'];
const streamCases = ['text', 'tools', 'reasoning'];

function parseStream(text: string): NeutralStreamEvent[] {
  const parser = codec.createStreamParser();
  return [...sseEvents(text).flatMap((event) => parser.push(event)), ...parser.end()];
}

describe('openai-chat requests', () => {
  it.each(requestCases)('%s: parses to the neutral request and renders back', (name) => {
    const fixture = fixtureJson<Case>(`openai-chat-request-${name}.json`);
    const parsed = codec.parseRequest(fixture.wire);
    expect(parsed.value).toEqual(fixture.neutral);
    expect(parsed.warnings).toEqual(fixture.warnings);
    const rendered = codec.renderRequest(parsed.value);
    expect(rendered.value).toEqual(fixture.rendered ?? fixture.wire);
    expect(rendered.warnings).toEqual(fixture.renderWarnings);
  });

  it('merges consecutive tool messages into one user turn of tool results', () => {
    const { neutral } = fixtureJson<{
      neutral: { messages: { role: string; content: { type: string }[] }[] };
    }>('openai-chat-request-tools.json');
    expect(
      neutral.messages.map((message) => [message.role, message.content.map((part) => part.type)]),
    ).toEqual([
      ['user', ['text']],
      ['assistant', ['tool-call', 'tool-call']],
      ['user', ['tool-result', 'tool-result']],
      ['user', ['text']],
    ]);
  });

  it('turns a thinking budget into an effort, drops top_k and moves tool-result images to a user message', () => {
    const base = codec.parseRequest({ model: 'm', messages: [] }).value;
    const rendered = codec.renderRequest({
      ...base,
      topK: 40,
      reasoning: { budgetTokens: 32000, effort: undefined },
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'call_1',
              toolName: undefined,
              isError: true,
              content: [
                { type: 'text', text: 'screenshot' },
                { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBO' } },
              ],
            },
          ],
        },
      ],
    });
    expect(rendered.value.reasoning_effort).toBe('high');
    expect(rendered.value.messages).toEqual([
      { role: 'tool', tool_call_id: 'call_1', content: 'screenshot' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } }] },
    ]);
    expect(rendered.warnings.map((warning) => `${warning.kind}:${warning.feature}`)).toEqual([
      'dropped:tool_result.is_error',
      'approximated:tool_result.image',
      'dropped:top_k',
      'approximated:thinking.budget_tokens',
    ]);
  });

  it('refuses what it cannot translate, naming the feature', () => {
    const audio = { type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } };
    expect(() => codec.parseRequest({ model: 'm', messages: [{ role: 'user', content: [audio] }] })).toThrow(
      /input_audio/,
    );
    expect(() => codec.parseRequest({ model: 'm', messages: [], n: 2 })).toThrow(GatewayError);
  });
});

describe('openai-chat responses', () => {
  it.each(responseCases)('%s: parses to the neutral response and renders back', (name) => {
    const fixture = fixtureJson<Case>(`openai-chat-response-${name}.json`);
    const parsed = codec.parseResponse(fixture.wire);
    expect(parsed.value).toEqual(fixture.neutral);
    expect(parsed.warnings).toEqual(fixture.warnings);
    expect(codec.renderResponse(parsed.value).value).toEqual(fixture.rendered ?? fixture.wire);
  });

  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool-calls'],
    ['content_filter', 'content-filter'],
    ['function_call', 'tool-calls'],
  ])('finish_reason %s is %s and survives the round trip', (raw, unified) => {
    const parsed = codec.parseResponse({
      id: 'c',
      model: 'm',
      choices: [{ index: 0, message: { content: 'x' }, finish_reason: raw }],
    }).value;
    expect(parsed.finishReason).toEqual({ unified, raw });
    const rendered = codec.renderResponse(parsed).value as { choices: { finish_reason: string }[] };
    expect(rendered.choices[0]?.finish_reason).toBe(raw);
  });

  it('keeps invalid tool arguments as {} with an approximated warning', () => {
    const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":' } };
    const parsed = codec.parseResponse({
      choices: [{ message: { content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }],
    });
    expect(parsed.value.content).toEqual([{ type: 'tool-call', id: 'call_1', name: 'f', input: {} }]);
    expect(parsed.warnings).toEqual([
      expect.objectContaining({ kind: 'approximated', feature: 'tool_calls.arguments' }),
    ]);
  });
});

describe('openai-chat streams', () => {
  it.each(streamCases)('%s: parses the recorded stream into neutral events', (name) => {
    expect(parseStream(fixtureText(`openai-chat-stream-${name}.chunks.txt`))).toEqual(
      fixtureJson(`openai-chat-stream-${name}.events.json`),
    );
  });

  it.each(streamCases)('%s: renders neutral events as exact chunks ending in [DONE]', (name) => {
    const renderer = codec.createStreamRenderer();
    const events = fixtureJson<NeutralStreamEvent[]>(`openai-chat-stream-${name}.events.json`);
    const text = events.map((event) => renderer.push(event)).join('') + renderer.end();
    expect(text).toBe(fixtureText(`openai-chat-stream-${name}.rendered.chunks.txt`));
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('round-trips a recorded stream: render(parse(wire)) parses to the same events', () => {
    const events = parseStream(fixtureText('openai-chat-stream-text.chunks.txt'));
    const renderer = codec.createStreamRenderer();
    expect(parseStream(events.map((event) => renderer.push(event)).join(''))).toEqual(events);
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      usage: { input: { total: 1234, cacheRead: 1024 } },
    });
  });

  it('leaves the usage chunk out when the client did not ask for it', () => {
    const renderer = createOpenAiChatStreamRendererWith({ includeUsage: false }, clock);
    const events = fixtureJson<NeutralStreamEvent[]>('openai-chat-stream-text.events.json');
    const text = events.map((event) => renderer.push(event)).join('');
    expect(text).not.toContain('"choices":[]');
    expect(text.endsWith('"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')).toBe(true);
  });

  it('reports an in-stream error and renders keep-alives as SSE comments', () => {
    const parser = codec.createStreamParser();
    expect(
      parser.push({ event: undefined, data: '{"error":{"message":"overloaded","type":"server_error"}}' }),
    ).toEqual([{ type: 'error', errorType: 'server_error', message: 'overloaded' }]);
    expect(codec.createStreamRenderer().push({ type: 'keepalive' })).toBe(': keepalive\n\n');
  });
});
