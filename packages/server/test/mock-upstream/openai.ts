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

/** OpenAI error `type`/`code` per HTTP status, as the API answers them. */
function errorFor(status: number, model: string): { message: string; type: string; code: string | null } {
  switch (status) {
    case 400:
      return { message: 'Invalid request.', type: 'invalid_request_error', code: null };
    case 401:
      return {
        message:
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 403:
      return {
        message: 'You are not allowed to sample from this model',
        type: 'invalid_request_error',
        code: null,
      };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 429:
      return {
        message: `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`,
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 503:
      return { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null };
    default:
      return status >= 500
        ? {
            message: 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
            code: null,
          }
        : { message: `Request failed with status ${status}.`, type: 'invalid_request_error', code: null };
  }
}

function baseHeaders(): Record<string, string> {
  return { 'x-request-id': `req_${nextId()}`, 'openai-processing-ms': '1' };
}

export function openaiError(
  res: ServerResponse,
  status: number,
  extra?: Record<string, string>,
  override?: { message?: string; type?: string; param?: string | null; code?: string | null; model?: string },
): void {
  const e = errorFor(status, override?.model ?? 'unknown');
  const error = {
    message: override?.message ?? e.message,
    type: override?.type ?? e.type,
    param: override?.param ?? null,
    code: override?.code !== undefined ? override.code : e.code,
  };
  sendJson(res, status, { error }, baseHeaders(), extra);
}

/** Returns true (after answering 401) when the Bearer key is missing or wrong. */
export function openaiAuthFails(req: IncomingMessage, res: ServerResponse, apiKey: string): boolean {
  const auth = req.headers.authorization;
  if (auth === `Bearer ${apiKey}`) return false;
  if (!auth?.startsWith('Bearer ')) {
    openaiError(res, 401, undefined, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
      code: null,
    });
    return true;
  }
  const key = auth.slice(7);
  const masked = key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : '*****';
  openaiError(res, 401, undefined, {
    message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    code: 'invalid_api_key',
  });
  return true;
}

export function openaiModels(res: ServerResponse): void {
  const created = 1_700_000_000;
  const data = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o4-mini'].map((id) => ({
    id,
    object: 'model',
    created,
    owned_by: 'system',
  }));
  sendJson(res, 200, { object: 'list', data }, baseHeaders());
}

function usageObject(u: MockUsage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** POST /v1/chat/completions, after auth and JSON parsing succeeded. */
export async function openaiChat(res: ServerResponse, body: JsonBody, scenario: MockScenario): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (model === undefined) {
    openaiError(res, 400, undefined, { message: 'you must provide a model parameter', param: null });
    return;
  }
  if (!Array.isArray(body.messages)) {
    openaiError(res, 400, undefined, {
      message: "Missing required parameter: 'messages'.",
      param: 'messages',
      code: 'missing_required_parameter',
    });
    return;
  }
  if (scenario.body !== undefined) {
    sendJson(res, scenario.status ?? 200, scenario.body, baseHeaders(), scenario.headers);
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    openaiError(res, scenario.status, scenario.headers, { model });
    return;
  }

  const usage = scenario.usage ?? defaultUsage(body);
  const tool = scenario.toolCall;
  const text = tool ? scenario.text : (scenario.text ?? DEFAULT_TEXT);
  const id = `chatcmpl-${nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const toolCallId = `call_${nextId()}`;
  const args = tool ? JSON.stringify(tool.arguments) : '';
  const finishReason = tool ? 'tool_calls' : 'stop';

  if (body.stream !== true) {
    const message: JsonBody = { role: 'assistant', content: text ?? null, refusal: null, annotations: [] };
    if (tool) {
      message.tool_calls = [
        { id: toolCallId, type: 'function', function: { name: tool.name, arguments: args } },
      ];
    }
    const completion = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: usageObject(usage),
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    };
    sendJson(res, 200, completion, baseHeaders(), scenario.headers);
    return;
  }

  const streamOptions = body.stream_options as JsonBody | null | undefined;
  const includeUsage = streamOptions?.include_usage === true;
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_mock","choices":`;
  const tail = includeUsage ? ',"usage":null}\n\n' : '}\n\n';
  const chunk = (delta: unknown, finish: string | null = null): string =>
    `${head}[${JSON.stringify({ index: 0, delta, logprobs: null, finish_reason: finish })}]${tail}`;

  const frames: string[] = [];
  frames.push(chunk({ role: 'assistant', content: tool && text === undefined ? null : '', refusal: null }));
  if (text) for (const piece of splitText(text)) frames.push(chunk({ content: piece }));
  if (tool) {
    frames.push(
      chunk({
        tool_calls: [
          { index: 0, id: toolCallId, type: 'function', function: { name: tool.name, arguments: '' } },
        ],
      }),
    );
    for (const piece of splitJson(args)) {
      frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
  }
  frames.push(chunk({}, finishReason));
  if (includeUsage) {
    frames.push(`${head}[],"usage":${JSON.stringify(usageObject(usage))}}\n\n`);
  }
  frames.push('data: [DONE]\n\n');

  const se = scenario.streamError;
  if (se) {
    frames.length = Math.min(se.afterEvents, frames.length);
    const error = {
      message: se.message ?? 'The server had an error while processing your request. Sorry about that!',
      type: se.type ?? 'server_error',
      param: null,
      code: null,
    };
    frames.push(`data: ${JSON.stringify({ error })}\n\n`);
  }
  await sendSse(res, frames, scenario, baseHeaders());
}
