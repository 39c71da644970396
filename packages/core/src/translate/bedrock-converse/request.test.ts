import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import type { NeutralRequest, TranslationWarning } from '../neutral.js';
import { bedrockConverseCodec as codec } from './index.js';

interface RequestCase {
  wire: Record<string, unknown>;
  neutral: NeutralRequest;
  parseWarnings: TranslationWarning[];
  renderWarnings?: TranslationWarning[];
}

/** JSON fixtures spell neutral `undefined` as `null`. */
function requestCase(name: string): RequestCase {
  const text = readFileSync(
    new URL(`../__fixtures__/bedrock-converse-request-${name}.json`, import.meta.url),
    'utf8',
  );
  return JSON.parse(text, (_key, value) => (value === null ? undefined : value)) as RequestCase;
}

function neutral(overrides: Partial<NeutralRequest>): NeutralRequest {
  return {
    model: 'anthropic.claude-sonnet-4-5',
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    tools: [],
    toolChoice: undefined,
    parallelToolCalls: undefined,
    maxOutputTokens: undefined,
    temperature: undefined,
    topP: undefined,
    topK: undefined,
    stopSequences: [],
    stream: true,
    reasoning: undefined,
    responseFormat: undefined,
    user: undefined,
    ...overrides,
  };
}

const weatherTool = { name: 'get_weather', description: undefined, inputSchema: { type: 'object' } };
const toolHistory: NeutralRequest['messages'] = [
  { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
  {
    role: 'assistant',
    content: [{ type: 'tool-call', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } }],
  },
  {
    role: 'user',
    content: [
      {
        type: 'tool-result',
        toolCallId: 'call_1',
        toolName: 'get_weather',
        content: [{ type: 'text', text: '-3°C' }],
        isError: false,
      },
    ],
  },
];

describe('bedrock-converse request', () => {
  describe.each(['text', 'image', 'tools', 'structured'])('%s', (name) => {
    const fixture = requestCase(name);

    it('parses into the neutral request', () => {
      const { value, warnings } = codec.parseRequest(fixture.wire);
      expect(value).toEqual(fixture.neutral);
      expect(warnings).toEqual(fixture.parseWarnings);
    });

    it('renders the exact body back (round trip)', () => {
      const { value, warnings } = codec.renderRequest(fixture.neutral);
      expect(value).toEqual(fixture.wire);
      expect(warnings).toEqual(fixture.renderWarnings ?? []);
      expect(codec.renderRequest(codec.parseRequest(fixture.wire).value).value).toEqual(fixture.wire);
    });
  });

  it('warns about everything it cannot carry', () => {
    const fixture = requestCase('unsupported');
    const { value, warnings } = codec.parseRequest(fixture.wire);
    expect(value).toEqual(fixture.neutral);
    expect(warnings).toEqual(fixture.parseWarnings);
  });

  it('never writes the model or stream into the body: both belong to the URL', () => {
    const { value } = codec.renderRequest(neutral({}));
    expect(value).toEqual({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] });
  });

  it('rejects bodies that are not Converse requests', () => {
    expect(() => codec.parseRequest('hello')).toThrow(GatewayError);
    expect(() => codec.parseRequest({})).toThrow(/messages/);
    expect(() => codec.parseRequest({ messages: [{ role: 'system', content: [] }] })).toThrow(/role/);
  });

  describe('tool choice none', () => {
    it('withholds the tools when the history has no tool blocks', () => {
      const { value, warnings } = codec.renderRequest(neutral({ tools: [weatherTool], toolChoice: 'none' }));
      expect(value.toolConfig).toBeUndefined();
      expect(warnings).toEqual([
        { kind: 'dropped', feature: 'tools', detail: 'Bedrock has no tool_choice none: tools withheld' },
      ]);
    });

    it('keeps the tools, without a choice, when the history has tool blocks', () => {
      const { value, warnings } = codec.renderRequest(
        neutral({ tools: [weatherTool], toolChoice: 'none', messages: toolHistory }),
      );
      expect(value.toolConfig).toEqual({
        tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
      });
      expect(warnings).toEqual([expect.objectContaining({ kind: 'approximated', feature: 'tool_choice' })]);
    });
  });

  it('spells a tool history out as text when no tools are offered', () => {
    const { value, warnings } = codec.renderRequest(neutral({ messages: toolHistory }));
    expect(value.toolConfig).toBeUndefined();
    expect(value.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather?' }] },
      { role: 'assistant', content: [{ text: '[tool call get_weather (call_1): {"city":"Oslo"}]' }] },
      { role: 'user', content: [{ text: '[tool result for call_1]' }, { text: '-3°C' }] },
    ]);
    expect(warnings).toEqual([expect.objectContaining({ kind: 'approximated', feature: 'tool_history' })]);
  });

  it('maps auto and required tool choices', () => {
    expect(
      codec.renderRequest(neutral({ tools: [weatherTool], toolChoice: 'auto' })).value.toolConfig,
    ).toEqual(expect.objectContaining({ toolChoice: { auto: {} } }));
    const forced = codec.renderRequest(neutral({ toolChoice: 'required' }));
    expect(forced.value.toolConfig).toBeUndefined();
    expect(forced.warnings).toEqual([expect.objectContaining({ kind: 'dropped', feature: 'tool_choice' })]);
  });

  describe('images', () => {
    const image = (
      source: Extract<NeutralRequest['messages'][number]['content'][number], { type: 'image' }>['source'],
    ) => neutral({ messages: [{ role: 'user', content: [{ type: 'image', source }] }] });

    it('refuses http URLs, which Bedrock cannot fetch', () => {
      expect(() => codec.renderRequest(image({ kind: 'url', url: 'https://example.com/cat.png' }))).toThrow(
        /cannot fetch images by URL/,
      );
    });

    it('refuses media types Bedrock does not take', () => {
      expect(() =>
        codec.renderRequest(image({ kind: 'base64', mediaType: 'image/tiff', data: 'AAAA' })),
      ).toThrow(/image\/tiff/);
    });

    it('keeps S3 objects as S3 locations', () => {
      const { value } = codec.renderRequest(image({ kind: 'url', url: 's3://bucket/photos/cat.JPG' }));
      expect(value.messages).toEqual([
        {
          role: 'user',
          content: [
            { image: { format: 'jpeg', source: { s3Location: { uri: 's3://bucket/photos/cat.JPG' } } } },
          ],
        },
      ]);
      const parsed = codec.parseRequest(value).value.messages[0]?.content[0];
      expect(parsed).toEqual({ type: 'image', source: { kind: 'url', url: 's3://bucket/photos/cat.JPG' } });
    });
  });

  it('turns a reasoning effort into a thinking budget, with a warning', () => {
    const { value, warnings } = codec.renderRequest(
      neutral({ reasoning: { budgetTokens: undefined, effort: 'high' } }),
    );
    expect(value.additionalModelRequestFields).toEqual({
      thinking: { type: 'enabled', budget_tokens: 32768 },
    });
    expect(warnings).toEqual([
      {
        kind: 'approximated',
        feature: 'reasoning',
        detail: 'effort high sent as a thinking budget of 32768 tokens (Claude models only)',
      },
    ]);
  });

  it('drops what Converse has no field for, and says so', () => {
    const { value, warnings } = codec.renderRequest(
      neutral({
        parallelToolCalls: false,
        user: 'user-42',
        responseFormat: { type: 'json', schema: undefined, name: undefined },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'Hi' },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'reasoning', text: 'unsigned thoughts' },
              { type: 'text', text: 'Hello' },
            ],
          },
        ],
      }),
    );
    expect(value).toEqual({
      messages: [
        { role: 'user', content: [{ text: 'Hi' }] },
        { role: 'assistant', content: [{ text: 'Hello' }] },
      ],
      outputConfig: {
        textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: '{"type":"object"}' } } },
      },
    });
    expect(warnings.map((warning) => `${warning.kind}:${warning.feature}`)).toEqual([
      'dropped:empty_text',
      'dropped:reasoning',
      'approximated:response_format',
      'dropped:parallel_tool_calls',
      'dropped:user',
    ]);
  });

  it('sends a non-object tool input as an empty object, with a warning', () => {
    const { value, warnings } = codec.renderRequest(
      neutral({
        tools: [weatherTool],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Go' }] },
          {
            role: 'assistant',
            content: [{ type: 'tool-call', id: 'call_9', name: 'get_weather', input: '{"city":' }],
          },
        ],
      }),
    );
    expect(value.messages).toEqual([
      { role: 'user', content: [{ text: 'Go' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'call_9', name: 'get_weather', input: {} } }] },
    ]);
    expect(warnings).toEqual([expect.objectContaining({ kind: 'approximated', feature: 'tool_call_input' })]);
  });
});
