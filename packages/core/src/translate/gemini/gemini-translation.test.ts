import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyUsage } from '../../usage.js';
import type { NeutralRequest, NeutralStreamEvent, WireEvent } from '../neutral.js';
import { geminiCodec as codec, createGeminiJsonArrayRenderer } from './index.js';

const fixtures = new URL('../__fixtures__/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
const json = (name: string): unknown => JSON.parse(text(name));

/** `alt=sse` text as wire events: one `data:` payload per blank-line-separated event. */
function wireEvents(sse: string): WireEvent[] {
  return sse
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => ({ event: undefined, data: block.replace(/^data: ?/, '') }));
}

function parseStream(sse: string): NeutralStreamEvent[] {
  const parser = codec.createStreamParser();
  return [...wireEvents(sse).flatMap((event) => parser.push(event)), ...parser.end()];
}

function render(
  renderer: { push(event: NeutralStreamEvent): string; end(): string },
  events: NeutralStreamEvent[],
) {
  return events.map((event) => renderer.push(event)).join('') + renderer.end();
}

describe('Gemini requests', () => {
  it.each([
    ['gemini-request', ''],
    ['gemini-request-cli', 'gemini-3-pro-preview'],
  ])('%s parses to the expected neutral request and renders the expected body', (name, model) => {
    const parsed = codec.parseRequest(json(`${name}.json`));
    expect(parsed).toEqual(json(`${name}.neutral.json`));
    expect(codec.renderRequest({ ...parsed.value, model })).toEqual(json(`${name}.rendered.json`));
  });

  it('round-trips text, system prompt, images, tools, calls, results, thoughts and settings', () => {
    const original = json('gemini-request.json');
    const { value } = codec.renderRequest(codec.parseRequest(original).value);
    expect(value).toEqual(original);
  });

  it('leaves the model to the URL: empty when parsed, absent when rendered', () => {
    const parsed = codec.parseRequest({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expect(parsed.value.model).toBe('');
    expect(parsed.value.stream).toBe(false);
    expect(codec.renderRequest({ ...parsed.value, model: 'gemini-2.5-pro' }).value).not.toHaveProperty(
      'model',
    );
  });

  it('gives id-less calls stable ids and answers results by name, in order', () => {
    const { value } = codec.parseRequest(json('gemini-request.json'));
    const calls = value.messages[1]?.content.filter((part) => part.type === 'tool-call');
    expect(calls?.map((part) => (part.type === 'tool-call' ? part.id : ''))).toEqual(['call_0', 'call_1']);
    const results = value.messages[2]?.content;
    expect(results?.map((part) => (part.type === 'tool-result' ? part.toolCallId : ''))).toEqual([
      'call_0',
      'call_1',
    ]);
  });

  it('wraps plain-text tool results as {"result": …} and warns; JSON objects pass as they are', () => {
    const base = codec.parseRequest({ contents: [] }).value;
    const request: NeutralRequest = {
      ...base,
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'toolu_1', name: 'shell', input: { cmd: 'ls' } }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'toolu_1',
              toolName: undefined,
              content: [{ type: 'text', text: 'a.txt' }],
              isError: false,
            },
            {
              type: 'tool-result',
              toolCallId: 'toolu_1',
              toolName: 'shell',
              content: [{ type: 'text', text: '{"ok":true}' }],
              isError: false,
            },
            {
              type: 'tool-result',
              toolCallId: 'toolu_1',
              toolName: 'shell',
              content: [{ type: 'text', text: 'boom' }],
              isError: true,
            },
          ],
        },
      ],
    };
    const { value, warnings } = codec.renderRequest(request);
    expect(value.contents).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'shell', args: { cmd: 'ls' } } }] },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'shell', response: { result: 'a.txt' } } },
          { functionResponse: { name: 'shell', response: { ok: true } } },
          { functionResponse: { name: 'shell', response: { error: 'boom' } } },
        ],
      },
    ]);
    expect(warnings).toEqual([
      { kind: 'approximated', feature: 'tool_result', detail: 'plain text wrapped as {"result": …}' },
    ]);
  });

  it('refuses cached content, which only Google can resolve', () => {
    expect(() => codec.parseRequest({ contents: [], cachedContent: 'cachedContents/abc' })).toThrow(
      /cachedContent/,
    );
  });

  it('maps reasoning effort to a thinking level on Gemini 3 and to a budget before it', () => {
    const base = codec.parseRequest({ contents: [] }).value;
    const reasoning = { budgetTokens: undefined, effort: 'low' as const };
    const three = codec.renderRequest({ ...base, model: 'gemini-3-flash-preview', reasoning });
    expect(three.value.generationConfig).toEqual({
      thinkingConfig: { includeThoughts: true, thinkingLevel: 'low' },
    });
    const two = codec.renderRequest({ ...base, model: 'gemini-2.5-flash', reasoning });
    expect(two.value.generationConfig).toEqual({
      thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 },
    });
    expect(two.warnings[0]).toMatchObject({ kind: 'approximated', feature: 'reasoning.effort' });
  });
});

describe('Gemini responses', () => {
  it('parses parts, signatures, finish reason and usage (thoughts billed as output)', () => {
    expect(codec.parseResponse(json('gemini-response.json'))).toEqual(json('gemini-response.neutral.json'));
  });

  it('round-trips a response', () => {
    const original = json('gemini-response.json');
    expect(codec.renderResponse(codec.parseResponse(original).value)).toEqual({
      value: original,
      warnings: [],
    });
  });

  it('maps finish reasons and prompt blocks', () => {
    const finish = (reason: string) =>
      codec.parseResponse({ candidates: [{ content: { parts: [] }, finishReason: reason }] }).value
        .finishReason;
    expect(finish('MAX_TOKENS')).toEqual({ unified: 'length', raw: 'MAX_TOKENS' });
    expect(finish('RECITATION')).toEqual({ unified: 'content-filter', raw: 'RECITATION' });
    expect(finish('MALFORMED_FUNCTION_CALL').unified).toBe('error');
    expect(codec.parseResponse({ promptFeedback: { blockReason: 'SAFETY' } }).value.finishReason).toEqual({
      unified: 'content-filter',
      raw: 'SAFETY',
    });
  });

  it('names id-less calls after the response so ids stay unique across turns', () => {
    const body = {
      responseId: 'r1',
      candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} } }] } }],
    };
    expect(codec.parseResponse(body).value.content).toEqual([
      { type: 'tool-call', id: 'call_r1_0', name: 'f', input: {} },
    ]);
  });
});

describe('Gemini streams', () => {
  it.each([['gemini-stream-tools'], ['gemini-stream-length']])(
    '%s parses to the expected neutral events',
    (name) => {
      expect(parseStream(text(`${name}.chunks.txt`))).toEqual(json(`${name}.events.json`));
    },
  );

  it.each([['gemini-stream-tools'], ['gemini-stream-length']])(
    '%s renders the expected alt=sse text, which parses back to the same events',
    (name) => {
      const events = json(`${name}.events.json`) as NeutralStreamEvent[];
      const rendered = render(codec.createStreamRenderer(), events);
      expect(rendered).toBe(text(`${name}.rendered.chunks.txt`));
      expect(parseStream(rendered)).toEqual(events);
    },
  );

  it.each([['gemini-stream-tools'], ['gemini-stream-length']])('%s renders a valid JSON array', (name) => {
    const events = json(`${name}.events.json`) as NeutralStreamEvent[];
    const rendered = render(createGeminiJsonArrayRenderer(), events);
    expect(rendered).toBe(text(`${name}.rendered.array.txt`));
    const chunks = JSON.parse(rendered) as unknown[];
    expect(chunks).toEqual(
      wireEvents(text(`${name}.rendered.chunks.txt`)).map((event) => JSON.parse(event.data)),
    );
    expect(render(createGeminiJsonArrayRenderer(), [])).toBe('[]');
  });

  it('reports an error chunk and renders errors in Google’s shape', () => {
    const parser = codec.createStreamParser();
    expect(
      parser.push({
        event: undefined,
        data: '{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}',
      }),
    ).toEqual([{ type: 'error', errorType: 'UNAVAILABLE', message: 'busy' }]);
    const rendered = render(codec.createStreamRenderer(), [
      { type: 'start', id: 'm1', model: 'claude', usage: undefined },
      { type: 'error', errorType: 'overloaded_error', message: 'Overloaded' },
      { type: 'finish', finishReason: { unified: 'error', raw: undefined }, usage: emptyUsage() },
    ]);
    expect(rendered).toBe(
      'data: {"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}}\r\n\r\n',
    );
  });

  it('carries a signature-only reasoning block onto the call that follows it', () => {
    const rendered = render(codec.createStreamRenderer(), [
      { type: 'start', id: 'r', model: 'm', usage: undefined },
      { type: 'reasoning-start', index: 0 },
      { type: 'reasoning-signature', index: 0, signature: 'sig' },
      { type: 'reasoning-end', index: 0 },
      { type: 'tool-input-start', index: 1, id: 'toolu_1', name: 'f' },
      { type: 'tool-input-delta', index: 1, delta: '{"a":' },
      { type: 'tool-input-delta', index: 1, delta: '1}' },
      { type: 'tool-input-end', index: 1 },
    ]);
    expect(rendered).toContain(
      '"parts":[{"functionCall":{"id":"toolu_1","name":"f","args":{"a":1}},"thoughtSignature":"sig"}]',
    );
  });
});
