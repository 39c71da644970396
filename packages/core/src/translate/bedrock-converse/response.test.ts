import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NeutralResponse } from '../neutral.js';
import { bedrockConverseCodec as codec } from './index.js';
import { usageFromBedrock } from './wire.js';

interface ResponseCase {
  wire: Record<string, unknown>;
  neutral: NeutralResponse;
}

function responseCase(name: string): ResponseCase {
  const text = readFileSync(
    new URL(`../__fixtures__/bedrock-converse-response-${name}.json`, import.meta.url),
    'utf8',
  );
  return JSON.parse(text) as ResponseCase;
}

describe('bedrock-converse response', () => {
  describe.each(['text', 'tools'])('%s', (name) => {
    const fixture = responseCase(name);

    it('parses into the neutral response', () => {
      expect(codec.parseResponse(fixture.wire)).toEqual({ value: fixture.neutral, warnings: [] });
    });

    it('renders the body back, except the latency a translator cannot know (round trip)', () => {
      const expected = { ...fixture.wire, metrics: { latencyMs: 0 } };
      expect(codec.renderResponse(fixture.neutral)).toEqual({ value: expected, warnings: [] });
      expect(codec.renderResponse(codec.parseResponse(fixture.wire).value).value).toEqual(expected);
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['tool_use', 'tool-calls'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['guardrail_intervened', 'content-filter'],
    ['content_filtered', 'content-filter'],
    ['malformed_model_output', 'error'],
    ['malformed_tool_use', 'error'],
    ['something_new', 'other'],
  ])('maps stop reason %s to %s and back', (stopReason, unified) => {
    const { value } = codec.parseResponse({
      output: { message: { role: 'assistant', content: [] } },
      stopReason,
    });
    expect(value.finishReason).toEqual({ unified, raw: stopReason });
    const rendered = codec.renderResponse(value).value.stopReason;
    expect(rendered).toBe(unified === 'other' ? 'end_turn' : stopReason);
  });

  it('renders other dialects’ finish reasons by their unified meaning', () => {
    const base = responseCase('text').neutral;
    const stopReason = (unified: NeutralResponse['finishReason']['unified'], raw: string) =>
      codec.renderResponse({ ...base, finishReason: { unified, raw } }).value.stopReason;
    expect(stopReason('length', 'length')).toBe('max_tokens');
    expect(stopReason('tool-calls', 'tool_calls')).toBe('tool_use');
    expect(stopReason('content-filter', 'SAFETY')).toBe('content_filtered');
    expect(stopReason('stop', 'STOP')).toBe('end_turn');
  });

  it('drops content a neutral answer cannot hold, with warnings', () => {
    const { value, warnings } = codec.parseResponse({
      output: {
        message: {
          role: 'assistant',
          content: [
            { text: 'See the citation.' },
            { citationsContent: { content: [{ text: 'x' }], citations: [] } },
            { reasoningContent: { redactedContent: 'cmVkYWN0ZWQ=' } },
          ],
        },
      },
      stopReason: 'end_turn',
      additionalModelResponseFields: { stop_sequence: null },
    });
    expect(value.content).toEqual([
      { type: 'text', text: 'See the citation.' },
      { type: 'reasoning', text: '', encrypted: 'cmVkYWN0ZWQ=' },
    ]);
    expect(value.usage.input.total).toBe(0);
    expect(warnings).toEqual([
      { kind: 'dropped', feature: 'citationsContent' },
      { kind: 'dropped', feature: 'additionalModelResponseFields' },
    ]);
  });

  it('keeps unsigned reasoning in a response, as Bedrock itself sends it', () => {
    const base = responseCase('text').neutral;
    const { value } = codec.renderResponse({ ...base, content: [{ type: 'reasoning', text: 'hmm' }] });
    expect(value.output).toEqual({
      message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'hmm' } } }] },
    });
  });
});

describe('usageFromBedrock', () => {
  it('adds cache reads and writes to the uncached inputTokens', () => {
    expect(
      usageFromBedrock({
        inputTokens: 10,
        outputTokens: 5,
        totalTokens: 1045,
        cacheReadInputTokens: 1000,
        cacheWriteInputTokens: 30,
      }),
    ).toEqual({
      input: { total: 1040, noCache: 10, cacheRead: 1000, cacheWrite: 30 },
      output: { total: 5, text: 5, reasoning: 0 },
    });
  });

  it('treats odd values as not reported', () => {
    expect(usageFromBedrock(undefined)).toBeUndefined();
    expect(usageFromBedrock({})).toBeUndefined();
    expect(usageFromBedrock({ inputTokens: -1, outputTokens: 'many' })).toBeUndefined();
    expect(usageFromBedrock({ inputTokens: 7.9 })).toEqual({
      input: { total: 7, noCache: 7, cacheRead: 0, cacheWrite: 0 },
      output: { total: 0, text: 0, reasoning: 0 },
    });
  });
});
