import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NeutralStreamEvent, WireEvent } from '../neutral.js';
import { bedrockConverseCodec as codec } from './index.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8');
}

/** A `.chunks.txt` stream: one `{"event", "data"}` line per decoded ConverseStream message. */
function wireEvents(text: string): WireEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const { event, data } = JSON.parse(line) as { event: string; data: unknown };
      return { event, data: JSON.stringify(data) };
    });
}

function parse(events: WireEvent[]): NeutralStreamEvent[] {
  const parser = codec.createStreamParser();
  return [...events.flatMap((event) => parser.push(event)), ...parser.end()];
}

function render(events: NeutralStreamEvent[]): string {
  const renderer = codec.createStreamRenderer();
  return events.map((event) => renderer.push(event)).join('') + renderer.end();
}

const noUsage = {
  input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  output: { total: 0, text: 0, reasoning: 0 },
};

const toolsEvents: NeutralStreamEvent[] = [
  { type: 'start', id: '', model: '', usage: undefined },
  { type: 'reasoning-start', index: 0 },
  { type: 'reasoning-delta', index: 0, delta: 'The user wants the weather in Paris.' },
  { type: 'reasoning-delta', index: 0, delta: ' I should call get_weather.' },
  {
    type: 'reasoning-signature',
    index: 0,
    signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds2Kv0Gxg5CrbJsSWTDVR9O2Ka5GFUD0Ofl3A6Q==',
  },
  { type: 'reasoning-end', index: 0 },
  { type: 'text-start', index: 1 },
  { type: 'text-delta', index: 1, delta: 'Let me check.' },
  { type: 'text-end', index: 1 },
  { type: 'tool-input-start', index: 2, id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather' },
  { type: 'tool-input-delta', index: 2, delta: '' },
  { type: 'tool-input-delta', index: 2, delta: '{"city": "Par' },
  { type: 'tool-input-delta', index: 2, delta: 'is", "unit": "celsius"}' },
  { type: 'tool-input-end', index: 2 },
  {
    type: 'finish',
    finishReason: { unified: 'tool-calls', raw: 'tool_use' },
    usage: {
      input: { total: 412, noCache: 412, cacheRead: 0, cacheWrite: 0 },
      output: { total: 96, text: 96, reasoning: 0 },
    },
  },
];

describe('bedrock-converse stream parser', () => {
  it('opens text blocks lazily and finishes once usage has arrived', () => {
    expect(parse(wireEvents(fixture('bedrock-converse-stream-text.chunks.txt')))).toEqual([
      { type: 'start', id: '', model: '', usage: undefined },
      { type: 'text-start', index: 0 },
      { type: 'text-delta', index: 0, delta: '7 and' },
      { type: 'text-delta', index: 0, delta: ' 11.' },
      { type: 'text-end', index: 0 },
      {
        type: 'finish',
        finishReason: { unified: 'stop', raw: 'end_turn' },
        usage: {
          input: { total: 2066, noCache: 18, cacheRead: 2048, cacheWrite: 0 },
          output: { total: 6, text: 6, reasoning: 0 },
        },
      },
    ]);
  });

  it('streams reasoning, text and tool-call arguments in block order', () => {
    expect(parse(wireEvents(fixture('bedrock-converse-stream-tools.chunks.txt')))).toEqual(toolsEvents);
  });

  it('turns an exception event into an error, then closes what is open', () => {
    expect(parse(wireEvents(fixture('bedrock-converse-stream-throttled.chunks.txt')))).toEqual([
      { type: 'start', id: '', model: '', usage: undefined },
      { type: 'text-start', index: 0 },
      { type: 'text-delta', index: 0, delta: 'Partial' },
      {
        type: 'error',
        errorType: 'throttlingException',
        message: 'Too many tokens, please wait before trying again.',
      },
      { type: 'text-end', index: 0 },
      { type: 'finish', finishReason: { unified: 'error', raw: undefined }, usage: noUsage },
    ]);
  });

  it('finishes at the end when metadata never came', () => {
    const events = wireEvents(fixture('bedrock-converse-stream-text.chunks.txt')).slice(0, -1);
    expect(parse(events).at(-1)).toEqual({
      type: 'finish',
      finishReason: { unified: 'stop', raw: 'end_turn' },
      usage: noUsage,
    });
  });

  it('reads union-wrapped payloads when the framing gave no event name', () => {
    const parser = codec.createStreamParser();
    expect(
      parser.push({
        event: undefined,
        data: '{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"}}}',
      }),
    ).toEqual([
      { type: 'start', id: '', model: '', usage: undefined },
      { type: 'text-start', index: 0 },
      { type: 'text-delta', index: 0, delta: 'Hi' },
    ]);
    expect(parser.push({ event: 'contentBlockDelta', data: 'not json' })).toEqual([]);
  });
});

describe('bedrock-converse stream renderer', () => {
  it('renders the exact ConverseStream events', () => {
    expect(render(toolsEvents)).toBe(fixture('bedrock-converse-stream-tools.rendered.chunks.txt'));
  });

  it('round-trips a recorded stream', () => {
    for (const name of ['text', 'tools', 'throttled']) {
      const events = parse(wireEvents(fixture(`bedrock-converse-stream-${name}.chunks.txt`)));
      expect(parse(wireEvents(render(events)))).toEqual(events);
    }
  });

  it('renders another dialect’s stream: renumbered blocks, no keep-alives, mapped errors', () => {
    const text = render([
      { type: 'start', id: 'msg_1', model: 'claude-sonnet-4-5', usage: undefined },
      { type: 'keepalive' },
      { type: 'text-start', index: 3 },
      { type: 'text-delta', index: 3, delta: 'Hel' },
      { type: 'keepalive' },
      { type: 'error', errorType: 'overloaded_error', message: 'Overloaded' },
      { type: 'finish', finishReason: { unified: 'error', raw: undefined }, usage: noUsage },
    ]);
    expect(text).toBe(
      [
        '{"event":"messageStart","data":{"role":"assistant"}}',
        '{"event":"contentBlockDelta","data":{"delta":{"text":"Hel"},"contentBlockIndex":0}}',
        '{"event":"serviceUnavailableException","data":{"message":"Overloaded"}}',
        '',
      ].join('\n'),
    );
  });

  it('closes blocks left open when the finish arrives', () => {
    const text = render([
      { type: 'start', id: 'chatcmpl-1', model: 'gpt-4.1', usage: undefined },
      { type: 'text-start', index: 0 },
      { type: 'text-delta', index: 0, delta: 'Hi' },
      { type: 'finish', finishReason: { unified: 'length', raw: 'length' }, usage: noUsage },
    ]);
    expect(text.split('\n').slice(2)).toEqual([
      '{"event":"contentBlockStop","data":{"contentBlockIndex":0}}',
      '{"event":"messageStop","data":{"stopReason":"max_tokens"}}',
      '{"event":"metadata","data":{"usage":{"inputTokens":0,"outputTokens":0,"totalTokens":0},"metrics":{"latencyMs":0}}}',
      '',
    ]);
  });
});
