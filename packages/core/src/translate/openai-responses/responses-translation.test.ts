import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { NeutralStreamEvent, WireEvent } from '../neutral.js';
import { openAiResponsesCodec as codec } from './index.js';

const fixtures = new URL('../__fixtures__/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
const json = (name: string): unknown => JSON.parse(text(name));

/** SSE text as wire events, the way the gateway's framing layer hands them over. */
function wireEvents(sse: string): WireEvent[] {
  return sse
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const event = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      return { event, data };
    });
}

function parseStream(sse: string): NeutralStreamEvent[] {
  const parser = codec.createStreamParser();
  return [...wireEvents(sse).flatMap((event) => parser.push(event)), ...parser.end()];
}

function renderStream(events: NeutralStreamEvent[]): string {
  const renderer = codec.createStreamRenderer();
  return events.map((event) => renderer.push(event)).join('') + renderer.end();
}

beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(1_760_000_000_000);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('OpenAI Responses requests', () => {
  it.each([['openai-responses-request'], ['openai-responses-request-codex']])(
    '%s parses to the expected neutral request and renders the expected body',
    (name) => {
      const parsed = codec.parseRequest(json(`${name}.json`));
      expect(parsed).toEqual(json(`${name}.neutral.json`));
      expect(codec.renderRequest(parsed.value)).toEqual(json(`${name}.rendered.json`));
    },
  );

  it('round-trips text, system prompt, images, tools, calls, results, reasoning and settings', () => {
    const original = json('openai-responses-request.json');
    const rendered = codec.renderRequest(codec.parseRequest(original).value);
    expect(rendered).toEqual({ value: original, warnings: [] });
  });

  it('reports hosted tools, hosted items, strict schemas and unknown fields instead of dropping them silently', () => {
    const { warnings } = codec.parseRequest(json('openai-responses-request-codex.json'));
    expect(warnings).toEqual(
      expect.arrayContaining([
        { kind: 'dropped', feature: 'tools.web_search' },
        { kind: 'dropped', feature: 'tools.custom' },
        { kind: 'dropped', feature: 'input.local_shell_call' },
        { kind: 'dropped', feature: 'prompt_cache_key' },
        { kind: 'clamped', feature: 'reasoning.effort', detail: 'xhigh → high' },
      ]),
    );
  });

  it('refuses what only OpenAI can resolve', () => {
    expect(() => codec.parseRequest({ model: 'gpt-5', input: 'hi', previous_response_id: 'resp_1' })).toThrow(
      /previous_response_id/,
    );
    expect(() =>
      codec.parseRequest({ model: 'gpt-5', input: [{ type: 'item_reference', id: 'msg_1' }] }),
    ).toThrow(GatewayError);
  });

  it('takes a plain string input as one user message', () => {
    const { value } = codec.parseRequest({ model: 'gpt-5', input: 'hello' });
    expect(value.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hello' }] }]);
  });

  it('renders budget-only reasoning, top_k, stop sequences and foreign thinking with warnings', () => {
    const { value: request } = codec.parseRequest({ model: 'gpt-5', input: 'hi' });
    const { value, warnings } = codec.renderRequest({
      ...request,
      topK: 5,
      stopSequences: ['END'],
      reasoning: { budgetTokens: 4000, effort: undefined },
      messages: [
        { role: 'assistant', content: [{ type: 'reasoning', text: 'hmm', signature: 'anthropic-sig' }] },
      ],
    });
    expect(value.reasoning).toEqual({ effort: 'medium', summary: 'auto' });
    expect(value.input).toEqual([]);
    expect(warnings.map((warning) => warning.feature)).toEqual([
      'reasoning',
      'top_k',
      'stop_sequences',
      'reasoning.budget_tokens',
    ]);
  });
});

describe('OpenAI Responses responses', () => {
  it('parses output items, finish reason and usage', () => {
    expect(codec.parseResponse(json('openai-responses-response.json'))).toEqual(
      json('openai-responses-response.neutral.json'),
    );
  });

  it('round-trips a response', () => {
    const original = json('openai-responses-response.json');
    expect(codec.renderResponse(codec.parseResponse(original).value)).toEqual({
      value: original,
      warnings: [],
    });
  });

  it('maps incomplete and failed statuses', () => {
    const incomplete = {
      id: 'r',
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [],
    };
    expect(codec.parseResponse(incomplete).value.finishReason).toEqual({
      unified: 'length',
      raw: 'max_output_tokens',
    });
    expect(codec.parseResponse({ id: 'r', status: 'failed', output: [] }).value.finishReason.unified).toBe(
      'error',
    );
  });

  it('keeps invalid function arguments visible in a warning', () => {
    const body = {
      status: 'completed',
      output: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{"a":' }],
    };
    const { value, warnings } = codec.parseResponse(body);
    expect(value.content).toEqual([{ type: 'tool-call', id: 'c', name: 'f', input: {} }]);
    expect(warnings[0]).toMatchObject({ kind: 'approximated', feature: 'function_call.arguments' });
  });
});

describe('OpenAI Responses streams', () => {
  it.each([['openai-responses-stream-tools'], ['openai-responses-stream-incomplete']])(
    '%s parses to the expected neutral events',
    (name) => {
      expect(parseStream(text(`${name}.chunks.txt`))).toEqual(json(`${name}.events.json`));
    },
  );

  it.each([['openai-responses-stream-tools'], ['openai-responses-stream-incomplete']])(
    '%s renders the expected wire text, which parses back to the same events',
    (name) => {
      const events = json(`${name}.events.json`) as NeutralStreamEvent[];
      const rendered = renderStream(events);
      expect(rendered).toBe(text(`${name}.rendered.chunks.txt`));
      expect(parseStream(rendered)).toEqual(events);
    },
  );

  it('renders what Codex needs: created first, items wrapped, usage in the completed response', () => {
    const rendered = wireEvents(text('openai-responses-stream-tools.rendered.chunks.txt'));
    const payloads = rendered.map((event) => JSON.parse(event.data) as Record<string, unknown>);
    expect(payloads[0]?.type).toBe('response.created');
    expect(payloads.at(-1)?.type).toBe('response.completed');
    expect(payloads.map((payload) => payload.sequence_number)).toEqual(payloads.map((_, index) => index));
    const added = payloads.filter((payload) => payload.type === 'response.output_item.added').length;
    const done = payloads.filter((payload) => payload.type === 'response.output_item.done');
    expect(done).toHaveLength(added);
    expect(done.at(-1)?.item).toMatchObject({
      call_id: 'call_abc',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    expect(rendered.every((event) => event.event === JSON.parse(event.data).type)).toBe(true);
  });

  it('ends with response.failed on an error or a stream cut short', () => {
    const start: NeutralStreamEvent = { type: 'start', id: 'resp_1', model: 'm', usage: undefined };
    const error = renderStream([
      start,
      { type: 'text-start', index: 0 },
      { type: 'error', errorType: 'overloaded_error', message: 'busy' },
    ]);
    expect(error).toContain('event: response.output_item.done');
    expect(wireEvents(error).at(-1)?.event).toBe('response.failed');
    expect(error).toContain('"error":{"code":"overloaded_error","message":"busy"}');
    const cut = renderStream([
      start,
      { type: 'text-start', index: 0 },
      { type: 'text-delta', index: 0, delta: 'x' },
    ]);
    expect(wireEvents(cut).at(-1)?.event).toBe('response.failed');
  });

  it('opens with response.created even without a start event', () => {
    const rendered = renderStream([
      { type: 'text-start', index: 0 },
      { type: 'text-end', index: 0 },
      {
        type: 'finish',
        finishReason: { unified: 'stop', raw: 'end_turn' },
        usage: codec.parseResponse({}).value.usage,
      },
    ]);
    expect(wireEvents(rendered).map((event) => event.event)[0]).toBe('response.created');
  });
});
