import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DEFAULT_TEXT,
  defaultUsage,
  type JsonBody,
  type MockScenario,
  type MockUsage,
  nextId,
  sendJson,
  sendSse,
  splitJson,
  splitText,
} from './shared.js';

/** Anthropic error `type` per HTTP status (https://docs.claude.com/en/api/errors). */
const ERRORS: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: [
    'rate_limit_error',
    "This request would exceed your organization's rate limit. Please try again later.",
  ],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

function errorFor(status: number): [type: string, message: string] {
  return (
    ERRORS[status] ??
    (status >= 500
      ? ['api_error', 'Internal server error']
      : ['invalid_request_error', `Request failed with status ${status}.`])
  );
}

export function anthropicError(
  res: ServerResponse,
  status: number,
  extra?: Record<string, string>,
  override?: { type?: string; message?: string },
): void {
  const [type, message] = errorFor(status);
  const requestId = `req_${nextId()}`;
  const body = {
    type: 'error',
    error: { type: override?.type ?? type, message: override?.message ?? message },
    request_id: requestId,
  };
  sendJson(res, status, body, { 'request-id': requestId }, extra);
}

/** Returns true (after answering) when the key is missing/wrong or anthropic-version is missing. */
export function anthropicAuthFails(req: IncomingMessage, res: ServerResponse, apiKey: string): boolean {
  const xKey = req.headers['x-api-key'];
  const auth = req.headers.authorization;
  const key = typeof xKey === 'string' ? xKey : auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
  if (key === undefined) {
    anthropicError(res, 401, undefined, { message: 'x-api-key header is required' });
    return true;
  }
  if (key !== apiKey) {
    anthropicError(res, 401, undefined, {
      message: typeof xKey === 'string' ? 'invalid x-api-key' : 'Invalid bearer token',
    });
    return true;
  }
  if (req.headers['anthropic-version'] === undefined) {
    // The real API answers a missing version with 400, not 401.
    anthropicError(res, 400, undefined, { message: 'anthropic-version: header is required' });
    return true;
  }
  return false;
}

export function anthropicModels(res: ServerResponse): void {
  const data = [
    ['claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5'],
    ['claude-haiku-4-5-20251001', 'Claude Haiku 4.5'],
    ['claude-opus-4-1-20250805', 'Claude Opus 4.1'],
  ].map(([id, display_name]) => ({ type: 'model', id, display_name, created_at: '2025-08-05T00:00:00Z' }));
  sendJson(
    res,
    200,
    { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
    { 'request-id': `req_${nextId()}` },
  );
}

export function anthropicCountTokens(res: ServerResponse, body: JsonBody): void {
  sendJson(res, 200, { input_tokens: defaultUsage(body).inputTokens }, { 'request-id': `req_${nextId()}` });
}

function usageObject(u: MockUsage, outputTokens: number) {
  const cacheWrite = u.cacheWriteTokens ?? 0;
  return {
    input_tokens: u.inputTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: u.cacheReadTokens ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function frame(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One Anthropic stream event, as it goes in an SSE `data:` line (Bedrock wraps the same JSON). */
export type AnthropicStreamEvent = { type: string } & JsonBody;

interface Reply {
  usage: MockUsage;
  tool: MockScenario['toolCall'];
  text: string | undefined;
  thinking: string | undefined;
  signature: string;
  toolId: string;
  id: string;
  stopReason: string;
}

function replyOf(body: JsonBody, scenario: MockScenario): Reply {
  const usage = scenario.usage ?? defaultUsage(body);
  const tool = scenario.toolCall;
  const text = tool ? scenario.text : (scenario.text ?? DEFAULT_TEXT);
  const thinking = scenario.thinking;
  const signature =
    thinking === undefined ? '' : Buffer.from(`mock-signature:${thinking}`).toString('base64');
  const toolId = `toolu_${nextId()}`;
  const id = `msg_${nextId()}`;
  const stopReason = tool ? 'tool_use' : 'end_turn';
  return { usage, tool, text, thinking, signature, toolId, id, stopReason };
}

/** The message a scenario answers a validated request with, unstreamed. */
export function anthropicMessage(body: JsonBody, scenario: MockScenario): JsonBody {
  const { usage, tool, text, thinking, signature, toolId, id, stopReason } = replyOf(body, scenario);
  const model = body.model as string;
  const content: unknown[] = [];
  if (thinking !== undefined) content.push({ type: 'thinking', thinking, signature });
  if (text !== undefined) content.push({ type: 'text', text });
  if (tool) content.push({ type: 'tool_use', id: toolId, name: tool.name, input: tool.arguments });
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: usageObject(usage, usage.outputTokens),
  };
}

/** The events a scenario streams for a validated request (`streamError` applied). */
export function anthropicStreamEvents(body: JsonBody, scenario: MockScenario): AnthropicStreamEvent[] {
  const { usage, tool, text, thinking, signature, toolId, id, stopReason } = replyOf(body, scenario);
  const model = body.model as string;
  const events: AnthropicStreamEvent[] = [
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usageObject(usage, 1),
      },
    },
  ];
  let index = 0;
  const block = (start: unknown, deltas: unknown[]): void => {
    events.push({ type: 'content_block_start', index, content_block: start });
    // Anthropic sends its first ping right after the first content_block_start.
    if (index === 0) events.push({ type: 'ping' });
    for (const delta of deltas) {
      events.push({ type: 'content_block_delta', index, delta });
    }
    events.push({ type: 'content_block_stop', index });
    index++;
  };
  if (thinking !== undefined) {
    block({ type: 'thinking', thinking: '', signature: '' }, [
      ...splitText(thinking).map((piece) => ({ type: 'thinking_delta', thinking: piece })),
      { type: 'signature_delta', signature },
    ]);
  }
  if (text !== undefined) {
    block(
      { type: 'text', text: '' },
      splitText(text).map((piece) => ({ type: 'text_delta', text: piece })),
    );
  }
  if (tool) {
    block(
      { type: 'tool_use', id: toolId, name: tool.name, input: {} },
      splitJson(JSON.stringify(tool.arguments)).map((piece) => ({
        type: 'input_json_delta',
        partial_json: piece,
      })),
    );
  }
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.outputTokens },
    },
    { type: 'message_stop' },
  );

  const se = scenario.streamError;
  if (se) {
    events.length = Math.min(se.afterEvents, events.length);
    const error = { type: se.type ?? 'overloaded_error', message: se.message ?? 'Overloaded' };
    events.push({ type: 'error', error });
  }
  return events;
}

/** POST /v1/messages, after auth and JSON parsing succeeded. */
export async function anthropicMessages(
  res: ServerResponse,
  body: JsonBody,
  scenario: MockScenario,
): Promise<void> {
  const missing =
    typeof body.model !== 'string'
      ? 'model'
      : !Array.isArray(body.messages)
        ? 'messages'
        : typeof body.max_tokens !== 'number'
          ? 'max_tokens'
          : undefined;
  if (missing) {
    anthropicError(res, 400, undefined, { message: `${missing}: Field required` });
    return;
  }
  if (scenario.body !== undefined) {
    sendJson(
      res,
      scenario.status ?? 200,
      scenario.body,
      { 'request-id': `req_${nextId()}` },
      scenario.headers,
    );
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    anthropicError(res, scenario.status, scenario.headers);
    return;
  }

  const headers = { 'request-id': `req_${nextId()}` };
  if (body.stream !== true) {
    sendJson(res, 200, anthropicMessage(body, scenario), headers, scenario.headers);
    return;
  }
  const frames = anthropicStreamEvents(body, scenario).map((event) => frame(event.type, event));
  await sendSse(res, frames, scenario, headers);
}
