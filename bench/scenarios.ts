/**
 * What is measured: the same client request sent straight to the mock upstream ("direct") and
 * through the gateway ("gateway"). The bodies are identical so the upstream does identical work and
 * the difference is what the gateway adds.
 */
import { MOCK_UPSTREAM_API_KEY } from './gateway-setup.js';
import type { RequestShape } from './measure.js';

export type Provider = 'openai' | 'anthropic';

export interface Scenario {
  name: string;
  provider: Provider;
  /**
   * The client speaks Anthropic's dialect to the gateway, which translates to the OpenAI upstream;
   * the direct baseline is the OpenAI request the upstream would get anyway.
   */
  translated?: boolean;
  streaming: boolean;
  concurrency: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'openai chat, non-streaming, c=1', provider: 'openai', streaming: false, concurrency: 1 },
  { name: 'openai chat, streaming, c=1', provider: 'openai', streaming: true, concurrency: 1 },
  { name: 'anthropic messages, streaming, c=1', provider: 'anthropic', streaming: true, concurrency: 1 },
  { name: 'openai chat, non-streaming, c=50', provider: 'openai', streaming: false, concurrency: 50 },
  { name: 'openai chat, streaming, c=50', provider: 'openai', streaming: true, concurrency: 50 },
  { name: 'anthropic messages, streaming, c=50', provider: 'anthropic', streaming: true, concurrency: 50 },
  {
    name: 'anthropic client → openai upstream (translated), non-streaming, c=1',
    provider: 'openai',
    translated: true,
    streaming: false,
    concurrency: 1,
  },
  {
    name: 'anthropic client → openai upstream (translated), streaming, c=1',
    provider: 'openai',
    translated: true,
    streaming: true,
    concurrency: 1,
  },
];

function openaiBody(streaming: boolean): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello.' }],
    // Asking for usage in both cases keeps the upstream's answer the same size whether or not the
    // gateway would add this option itself for metering.
    ...(streaming ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

function anthropicBody(streaming: boolean, model = 'claude-sonnet-4-5'): string {
  return JSON.stringify({
    model,
    max_tokens: 100,
    messages: [{ role: 'user', content: 'Say hello.' }],
    ...(streaming ? { stream: true } : {}),
  });
}

const JSON_CONTENT = { 'content-type': 'application/json' };

export function directRequest(scenario: Scenario): RequestShape {
  if (scenario.provider === 'openai') {
    return {
      path: '/v1/chat/completions',
      headers: { ...JSON_CONTENT, authorization: `Bearer ${MOCK_UPSTREAM_API_KEY}` },
      body: openaiBody(scenario.streaming),
    };
  }
  return {
    path: '/v1/messages',
    headers: { ...JSON_CONTENT, 'x-api-key': MOCK_UPSTREAM_API_KEY, 'anthropic-version': '2023-06-01' },
    body: anthropicBody(scenario.streaming),
  };
}

export function gatewayRequest(scenario: Scenario, virtualKey: string): RequestShape {
  if (scenario.translated) {
    return {
      path: '/api/v1/messages',
      headers: { ...JSON_CONTENT, 'x-api-key': virtualKey, 'anthropic-version': '2023-06-01' },
      body: anthropicBody(scenario.streaming, 'gpt-4o-mini'),
    };
  }
  if (scenario.provider === 'openai') {
    return {
      path: '/api/v1/chat/completions',
      headers: { ...JSON_CONTENT, authorization: `Bearer ${virtualKey}` },
      body: openaiBody(scenario.streaming),
    };
  }
  return {
    path: '/api/v1/messages',
    headers: { ...JSON_CONTENT, 'x-api-key': virtualKey, 'anthropic-version': '2023-06-01' },
    body: anthropicBody(scenario.streaming),
  };
}
