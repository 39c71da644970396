import { generateKeyPairSync } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { type FunctionCall, GoogleGenAI, Type } from '@google/genai';
import { and, eq, gt } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usageEvents } from '../src/store/schema.js';
import { MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY } from './mock-upstream/bedrock.js';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockScenario,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { eventually, startTestGatehouse, type TestGatehouse } from './support/harness.js';

/**
 * The acceptance matrix: each official client (OpenAI chat and responses, Anthropic messages,
 * Gemini generateContent), pointed at the gateway, gets the mock's answer from every provider
 * type — plain and streamed text, and a tool call plain and streamed — translated wherever the
 * client's dialect is not the provider's, and every call is metered with the provider's tokens.
 * Each provider has its own routing policy, project and key, so a key reaches one credential.
 */

type ProviderType = 'openai' | 'azure' | 'anthropic' | 'gemini' | 'bedrock' | 'vertex';

/** One model a provider credential serves: a row of the matrix. */
interface Route {
  provider: ProviderType;
  model: string;
  /** The provider's own endpoint the gateway must call, whatever the client spoke. */
  upstream: RegExp;
}

const VERTEX_MODELS = '/v1/projects/gatehouse-test/locations/us-east5/publishers';

const ROUTES: Route[] = [
  { provider: 'openai', model: 'gpt-4o', upstream: /^\/v1\/(chat\/completions|responses)$/ },
  {
    provider: 'azure',
    model: 'gpt-4o-mini',
    upstream:
      /^\/openai\/(deployments\/prod-4o-mini\/chat\/completions\?api-version=2024-10-21|v1\/responses)$/,
  },
  { provider: 'anthropic', model: 'claude-sonnet-4-6', upstream: /^\/v1\/messages$/ },
  {
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    upstream: /^\/v1beta\/models\/gemini-2\.5-flash:(generateContent|streamGenerateContent\?alt=sse)$/,
  },
  {
    provider: 'bedrock',
    model: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    upstream: /^\/model\/anthropic\.claude-sonnet-4-5-20250929-v1%3A0\/invoke(-with-response-stream)?$/,
  },
  {
    provider: 'bedrock',
    model: 'amazon.nova-pro-v1:0',
    upstream: /^\/model\/amazon\.nova-pro-v1%3A0\/converse(-stream)?$/,
  },
  {
    provider: 'vertex',
    model: 'gemini-2.5-pro',
    upstream: new RegExp(
      `^${VERTEX_MODELS}/google/models/gemini-2\\.5-pro:(generateContent|streamGenerateContent\\?alt=sse)$`,
    ),
  },
  {
    provider: 'vertex',
    model: 'claude-sonnet-4-5@20250929',
    upstream: new RegExp(
      `^${VERTEX_MODELS}/anthropic/models/claude-sonnet-4-5%4020250929:(rawPredict|streamRawPredict)$`,
    ),
  },
];

const modelsOf = (provider: ProviderType) =>
  ROUTES.filter((route) => route.provider === provider).map((route) => route.model);

const TOOL = {
  name: 'get_weather',
  description: 'Current weather in a city',
  arguments: { city: 'Paris', unit: 'celsius' },
};
const TOOL_SCHEMA = {
  type: 'object' as const,
  properties: { city: { type: 'string' }, unit: { type: 'string' } },
  required: ['city'],
};
const USAGE = { inputTokens: 17, outputTokens: 9 };

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

/** What a client's SDK surfaced for a tool call. */
interface ToolAnswer {
  name: string;
  arguments: unknown;
  stopReason: string | null | undefined;
}

/** The four calls each client makes against one model, through its official SDK. */
interface ClientDriver {
  text(model: string): Promise<string>;
  streamText(model: string): Promise<string>;
  tool(model: string): Promise<ToolAnswer>;
  streamTool(model: string): Promise<ToolAnswer>;
}

interface Client {
  name: string;
  /** The stop reason the client's dialect gives a turn that ends in a tool call. */
  toolStopReason: string | undefined;
  connect(key: string): ClientDriver;
}

const openAiOptions = (key: string) => ({ apiKey: key, baseURL: `${server.url}/api/v1`, maxRetries: 0 });

const openAiChat: Client = {
  name: 'openai chat.completions',
  toolStopReason: 'tool_calls',
  connect(key) {
    const client = new OpenAI(openAiOptions(key));
    const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }];
    const tools = [
      {
        type: 'function' as const,
        function: { name: TOOL.name, description: TOOL.description, parameters: TOOL_SCHEMA },
      },
    ];
    return {
      async text(model) {
        const completion = await client.chat.completions.create({ model, messages });
        return completion.choices[0]?.message.content ?? '';
      },
      async streamText(model) {
        let text = '';
        for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
          text += chunk.choices[0]?.delta.content ?? '';
        }
        return text;
      },
      async tool(model) {
        const completion = await client.chat.completions.create({ model, messages, tools });
        const choice = completion.choices[0];
        const call = choice?.message.tool_calls?.[0];
        const fn = call?.type === 'function' ? call.function : undefined;
        return {
          name: fn?.name ?? '',
          arguments: JSON.parse(fn?.arguments ?? 'null'),
          stopReason: choice?.finish_reason,
        };
      },
      async streamTool(model) {
        let name = '';
        let args = '';
        let stopReason: string | null | undefined;
        const stream = await client.chat.completions.create({ model, messages, tools, stream: true });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          for (const call of choice?.delta.tool_calls ?? []) {
            name += call.function?.name ?? '';
            args += call.function?.arguments ?? '';
          }
          stopReason = choice?.finish_reason ?? stopReason;
        }
        return { name, arguments: JSON.parse(args || 'null'), stopReason };
      },
    };
  },
};

const openAiResponses: Client = {
  name: 'openai responses',
  toolStopReason: undefined,
  connect(key) {
    const client = new OpenAI(openAiOptions(key));
    const input = 'Weather in Paris?';
    const tools = [
      {
        type: 'function' as const,
        name: TOOL.name,
        description: TOOL.description,
        parameters: TOOL_SCHEMA,
        strict: false,
      },
    ];
    return {
      async text(model) {
        return (await client.responses.create({ model, input })).output_text;
      },
      async streamText(model) {
        let text = '';
        for await (const event of await client.responses.create({ model, input, stream: true })) {
          if (event.type === 'response.output_text.delta') text += event.delta;
        }
        return text;
      },
      async tool(model) {
        const response = await client.responses.create({ model, input, tools });
        const call = response.output.find((item) => item.type === 'function_call');
        return {
          name: call?.name ?? '',
          arguments: JSON.parse(call?.arguments ?? 'null'),
          stopReason: undefined,
        };
      },
      async streamTool(model) {
        let name = '';
        let args = '';
        for await (const event of await client.responses.create({ model, input, tools, stream: true })) {
          if (event.type === 'response.function_call_arguments.delta') args += event.delta;
          if (event.type === 'response.output_item.done' && event.item.type === 'function_call') {
            name = event.item.name;
            expect(event.item.arguments).toBe(args);
          }
        }
        return { name, arguments: JSON.parse(args || 'null'), stopReason: undefined };
      },
    };
  },
};

const anthropicMessages: Client = {
  name: 'anthropic messages',
  toolStopReason: 'tool_use',
  connect(key) {
    const client = new Anthropic({ apiKey: key, baseURL: `${server.url}/api`, maxRetries: 0 });
    const base = { max_tokens: 256, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] };
    const tools = [{ name: TOOL.name, description: TOOL.description, input_schema: TOOL_SCHEMA }];
    return {
      async text(model) {
        const message = await client.messages.create({ model, ...base });
        return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      },
      async streamText(model) {
        let text = '';
        for await (const event of await client.messages.create({ model, ...base, stream: true })) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
            text += event.delta.text;
          }
        }
        return text;
      },
      async tool(model) {
        const message = await client.messages.create({ model, ...base, tools });
        const use = message.content.find((block) => block.type === 'tool_use');
        return { name: use?.name ?? '', arguments: use?.input, stopReason: message.stop_reason };
      },
      async streamTool(model) {
        let name = '';
        let args = '';
        let stopReason: string | null | undefined;
        for await (const event of await client.messages.create({ model, ...base, tools, stream: true })) {
          if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
            name = event.content_block.name;
          }
          if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') {
            args += event.delta.partial_json;
          }
          if (event.type === 'message_delta') stopReason = event.delta.stop_reason ?? stopReason;
        }
        return { name, arguments: JSON.parse(args || 'null'), stopReason };
      },
    };
  },
};

const geminiGenerate: Client = {
  name: 'gemini generateContent',
  toolStopReason: 'STOP',
  connect(key) {
    const client = new GoogleGenAI({
      apiKey: key,
      httpOptions: { baseUrl: `${server.url}/api`, retryOptions: { attempts: 1 } },
    });
    const contents = 'Weather in Paris?';
    const config = {
      tools: [
        {
          functionDeclarations: [
            {
              name: TOOL.name,
              description: TOOL.description,
              parameters: {
                type: Type.OBJECT,
                properties: { city: { type: Type.STRING }, unit: { type: Type.STRING } },
                required: ['city'],
              },
            },
          ],
        },
      ],
    };
    const toolAnswer = (calls: FunctionCall[], stopReason: string | undefined): ToolAnswer => {
      expect(calls).toHaveLength(1);
      return { name: calls[0]?.name ?? '', arguments: calls[0]?.args, stopReason };
    };
    return {
      async text(model) {
        return (await client.models.generateContent({ model, contents })).text ?? '';
      },
      async streamText(model) {
        let text = '';
        for await (const chunk of await client.models.generateContentStream({ model, contents })) {
          text += chunk.text ?? '';
        }
        return text;
      },
      async tool(model) {
        const response = await client.models.generateContent({ model, contents, config });
        return toolAnswer(response.functionCalls ?? [], response.candidates?.[0]?.finishReason);
      },
      async streamTool(model) {
        const calls: FunctionCall[] = [];
        let stopReason: string | undefined;
        for await (const chunk of await client.models.generateContentStream({ model, contents, config })) {
          calls.push(...(chunk.functionCalls ?? []));
          stopReason = chunk.candidates?.[0]?.finishReason ?? stopReason;
        }
        return toolAnswer(calls, stopReason);
      },
    };
  },
};

const CLIENTS: Client[] = [openAiChat, openAiResponses, anthropicMessages, geminiGenerate];

let mock: MockUpstream;
let server: TestGatehouse;
/** Each provider's virtual key (secret and id), reaching that provider's credential only. */
const keys = new Map<ProviderType, { key: string; id: string }>();

/** The credential body for each provider type, pointed at the mock. */
function credentialFor(provider: ProviderType): Record<string, unknown> {
  const models = modelsOf(provider);
  switch (provider) {
    case 'openai':
      return { baseUrl: `${mock.url}/v1`, apiKey: MOCK_UPSTREAM_API_KEY, models };
    case 'azure':
      return {
        baseUrl: mock.url,
        apiKey: MOCK_UPSTREAM_API_KEY,
        apiVersion: '2024-10-21',
        deployments: { 'gpt-4o-mini': 'prod-4o-mini' },
        models,
      };
    case 'anthropic':
    case 'gemini':
      return { baseUrl: mock.url, apiKey: MOCK_UPSTREAM_API_KEY, models };
    case 'bedrock':
      return {
        baseUrl: mock.url,
        region: 'us-east-1',
        accessKeyId: MOCK_AWS_ACCESS_KEY_ID,
        secretAccessKey: MOCK_AWS_SECRET_ACCESS_KEY,
        models,
      };
    case 'vertex':
      return {
        baseUrl: mock.url,
        projectId: 'gatehouse-test',
        location: 'us-east5',
        serviceAccountJson: JSON.stringify({
          type: 'service_account',
          project_id: 'gatehouse-test',
          private_key_id: 'key-1',
          private_key: privateKey,
          client_email: 'gateway@gatehouse-test.iam.gserviceaccount.com',
          client_id: '1234567890',
          token_uri: `${mock.url}/token`,
        }),
        models,
      };
  }
}

beforeAll(async () => {
  mock = await startMockUpstream();
  server = await startTestGatehouse();
  for (const provider of new Set(ROUTES.map((route) => route.provider))) {
    const credential = await server.admin('POST', '/providers', {
      name: `mock-${provider}`,
      type: provider,
      ...credentialFor(provider),
    });
    const policy = await server.admin('POST', '/routing-policies', {
      name: `only ${provider}`,
      providers: [credential.id],
    });
    const project = await server.admin('POST', '/projects', {
      name: `matrix ${provider}`,
      routingPolicyId: policy.id,
    });
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: provider });
    keys.set(provider, { key: key.key, id: key.id });
  }
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

/** The usage events a key recorded, oldest first. */
function eventsOf(keyId: string, afterSequence = 0) {
  return server.gatehouse.storage.db
    .select()
    .from(usageEvents)
    .where(and(eq(usageEvents.keyId, keyId), gt(usageEvents.sequence, afterSequence)))
    .orderBy(usageEvents.sequence);
}

/**
 * Runs one call and checks what it cost upstream: one request to the route's endpoint, streamed
 * when the client streamed, and one usage event from the route's provider with the tokens the
 * mock reported.
 */
async function metered<T>(route: Route, streamed: boolean, call: () => Promise<T>): Promise<T> {
  const { id } = keys.get(route.provider) as { id: string };
  const before = (await eventsOf(id)).at(-1)?.sequence ?? 0;
  const result = await call();
  const upstream = mock.requests.filter((request) => request.path !== '/token');
  expect(upstream.map((request) => request.path)).toEqual([expect.stringMatching(route.upstream)]);
  const request = upstream[0];
  expect(/stream/i.test(request?.path ?? '') || request?.body?.stream === true).toBe(streamed);
  const events = await eventually(
    async () => {
      await server.flushUsage();
      return eventsOf(id, before);
    },
    (found) => found.length > 0,
  );
  expect(events).toHaveLength(1);
  const event = events[0];
  expect(event).toMatchObject({ status: 200, providerType: route.provider, model: route.model, streamed });
  expect(event?.inputTokens).toBeGreaterThan(0);
  expect(event?.outputTokens).toBeGreaterThan(0);
  expect({ inputTokens: event?.inputTokens, outputTokens: event?.outputTokens }).toEqual(USAGE);
  return result;
}

describe.each(CLIENTS)('the $name client', (client) => {
  describe.each(ROUTES)('from $provider $model', (route) => {
    const driver = () => client.connect((keys.get(route.provider) as { key: string }).key);
    const answer = `${route.provider} answers ${client.name} with ${route.model}, word by word.`;

    it('gets the text answer', async () => {
      mock.enqueue({ text: answer, usage: USAGE });
      expect(await metered(route, false, () => driver().text(route.model))).toBe(answer);
    });

    it('gets the text answer streamed', async () => {
      mock.enqueue({ text: answer, usage: USAGE });
      expect(await metered(route, true, () => driver().streamText(route.model))).toBe(answer);
    });

    it.each([
      ['gets a tool call', 'tool'],
      ['gets a tool call streamed', 'streamTool'],
    ] as const)('%s', async (_title, method) => {
      const scenario: MockScenario = {
        toolCall: { name: TOOL.name, arguments: TOOL.arguments },
        usage: USAGE,
      };
      mock.enqueue(scenario);
      const call = await metered(route, method === 'streamTool', () => driver()[method](route.model));
      expect(call).toEqual({
        name: TOOL.name,
        arguments: TOOL.arguments,
        stopReason: client.toolStopReason,
      });
    });
  });
});
