import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import {
  fixtureJson,
  fixtureText,
  sseEvents,
} from '../__fixtures__/anthropic-messages-openai-chat.support.js';
import type { NeutralRequest, NeutralStreamEvent, TranslationWarning } from '../neutral.js';
import { anthropicMessagesCodec as codec } from './index.js';

interface Case {
  wire: Record<string, unknown>;
  neutral: unknown;
  warnings: TranslationWarning[];
  /** The rendered body when it differs from `wire` (features dropped on parse). */
  rendered?: Record<string, unknown>;
  renderWarnings: TranslationWarning[];
}

const requestCases = ['text', 'tools', 'images', 'warnings'];
const responseCases = ['text', 'tools'];
const streamCases = ['text', 'tools', 'overloaded'];

describe('anthropic-messages requests', () => {
  it.each(requestCases)('%s: parses to the neutral request and renders back', (name) => {
    const fixture = fixtureJson<Case>(`anthropic-messages-request-${name}.json`);
    const parsed = codec.parseRequest(fixture.wire);
    expect(parsed.value).toEqual(fixture.neutral);
    expect(parsed.warnings).toEqual(fixture.warnings);
    const rendered = codec.renderRequest(parsed.value);
    expect(rendered.value).toEqual(fixture.rendered ?? fixture.wire);
    expect(rendered.warnings).toEqual(fixture.renderWarnings);
  });

  it('renders the required max_tokens with a clamped warning when the neutral request has none', () => {
    const neutral = codec.parseRequest({ model: 'm', max_tokens: 10, messages: [] }).value;
    const rendered = codec.renderRequest({ ...neutral, maxOutputTokens: undefined });
    expect(rendered.value.max_tokens).toBe(4096);
    expect(rendered.warnings).toEqual([expect.objectContaining({ kind: 'clamped', feature: 'max_tokens' })]);
  });

  it('drops unsigned reasoning and maps effort to a thinking budget', () => {
    const base = codec.parseRequest({ model: 'm', max_tokens: 20000, messages: [] }).value;
    const request: NeutralRequest = {
      ...base,
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'from elsewhere' },
            { type: 'text', text: 'hi' },
          ],
        },
      ],
      reasoning: { budgetTokens: undefined, effort: 'high' },
      responseFormat: { type: 'json', schema: undefined, name: undefined },
    };
    const rendered = codec.renderRequest(request);
    expect(rendered.value.messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'hi' }] }]);
    expect(rendered.value.thinking).toEqual({ type: 'enabled', budget_tokens: 19999 });
    expect(rendered.warnings.map((warning) => `${warning.kind}:${warning.feature}`)).toEqual([
      'dropped:reasoning',
      'approximated:reasoning_effort',
      'clamped:thinking.budget_tokens',
      'dropped:response_format',
    ]);
  });

  it('refuses what it cannot translate, naming the feature', () => {
    const document = {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' },
    };
    const body = { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: [document] }] };
    expect(() => codec.parseRequest(body)).toThrow(GatewayError);
    expect(() => codec.parseRequest(body)).toThrow(/document/);
    expect(() => codec.parseRequest({ messages: [] })).toThrow(/model/);
  });
});

describe('anthropic-messages responses', () => {
  it.each(responseCases)('%s: parses to the neutral response and renders back', (name) => {
    const fixture = fixtureJson<Case>(`anthropic-messages-response-${name}.json`);
    const parsed = codec.parseResponse(fixture.wire);
    expect(parsed.value).toEqual(fixture.neutral);
    expect(parsed.warnings).toEqual(fixture.warnings);
    expect(codec.renderResponse(parsed.value).value).toEqual(fixture.rendered ?? fixture.wire);
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool-calls'],
    ['refusal', 'content-filter'],
    ['pause_turn', 'other'],
  ])('stop_reason %s is %s and survives the round trip', (raw, unified) => {
    const body = {
      id: 'msg',
      model: 'm',
      content: [],
      stop_reason: raw,
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    const parsed = codec.parseResponse(body).value;
    expect(parsed.finishReason).toEqual({ unified, raw });
    expect(codec.renderResponse(parsed).value.stop_reason).toBe(raw);
  });

  it('renders a foreign finish reason by its unified meaning', () => {
    const parsed = codec.parseResponse({ id: 'msg', model: 'm', content: [], stop_reason: 'end_turn' }).value;
    const rendered = codec.renderResponse({
      ...parsed,
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    });
    expect(rendered.value.stop_reason).toBe('tool_use');
  });
});

describe('anthropic-messages streams', () => {
  it.each(streamCases)('%s: parses the recorded stream into neutral events', (name) => {
    const parser = codec.createStreamParser();
    const events = [
      ...sseEvents(fixtureText(`anthropic-messages-stream-${name}.chunks.txt`)).flatMap((event) =>
        parser.push(event),
      ),
      ...parser.end(),
    ];
    expect(events).toEqual(fixtureJson(`anthropic-messages-stream-${name}.events.json`));
  });

  it.each(streamCases)('%s: renders neutral events as exact Anthropic SSE', (name) => {
    const renderer = codec.createStreamRenderer();
    const events = fixtureJson<NeutralStreamEvent[]>(`anthropic-messages-stream-${name}.events.json`);
    const text = events.map((event) => renderer.push(event)).join('') + renderer.end();
    expect(text).toBe(fixtureText(`anthropic-messages-stream-${name}.rendered.chunks.txt`));
  });

  it('round-trips a recorded stream: render(parse(wire)) parses to the same events', () => {
    const parse = (text: string) => {
      const parser = codec.createStreamParser();
      return [...sseEvents(text).flatMap((event) => parser.push(event)), ...parser.end()];
    };
    const events = parse(fixtureText('anthropic-messages-stream-tools.chunks.txt'));
    const renderer = codec.createStreamRenderer();
    expect(parse(events.map((event) => renderer.push(event)).join(''))).toEqual(events);
  });

  it('keeps redacted thinking whole and finishes a stream cut after message_delta', () => {
    const parser = codec.createStreamParser();
    const wire = [
      {
        type: 'message_start',
        message: { id: 'msg_1', model: 'm', usage: { input_tokens: 3, output_tokens: 1 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EmwK' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 9 } },
    ];
    const events = [
      ...wire.flatMap((data) => parser.push({ event: data.type, data: JSON.stringify(data) })),
      ...parser.end(),
    ];
    expect(events.slice(1)).toEqual([
      { type: 'reasoning-start', index: 0, encrypted: 'EmwK' },
      { type: 'reasoning-end', index: 0 },
      {
        type: 'finish',
        finishReason: { unified: 'length', raw: 'max_tokens' },
        usage: {
          input: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
          output: { total: 9, text: 9, reasoning: 0 },
        },
      },
    ]);
    const renderer = codec.createStreamRenderer();
    expect(renderer.push(events[1] as NeutralStreamEvent)).toContain(
      '"content_block":{"type":"redacted_thinking","data":"EmwK"}',
    );
  });
});
