import type { ServerResponse } from 'node:http';
import { openaiError } from './openai.js';
import {
  DEFAULT_TEXT,
  type JsonBody,
  type MockScenario,
  type MockUsage,
  nextId,
  sendJson,
  sendSse,
  splitJson,
  splitText,
} from './shared.js';

/**
 * OpenAI's Responses API (`POST /v1/responses`), the API Codex CLI speaks: the response object,
 * and the typed `event: response.*` stream.
 * @see https://platform.openai.com/docs/api-reference/responses
 */
export async function openaiResponses(
  res: ServerResponse,
  body: JsonBody,
  scenario: MockScenario,
): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (model === undefined) {
    openaiError(res, 400, undefined, { message: "Missing required parameter: 'model'.", param: 'model' });
    return;
  }
  if (body.input === undefined) {
    openaiError(res, 400, undefined, { message: "Missing required parameter: 'input'.", param: 'input' });
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    openaiError(res, scenario.status, scenario.headers, { model });
    return;
  }
  const usage = scenario.usage ?? {
    inputTokens: 12 + (Array.isArray(body.input) ? body.input.length : 1),
    outputTokens: 7,
  };
  const responseId = `resp_${nextId()}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const tool = scenario.toolCall;
  const text = tool ? undefined : (scenario.text ?? DEFAULT_TEXT);
  const messageId = `msg_${nextId()}`;
  const callId = `call_${nextId()}`;
  const itemId = `fc_${nextId()}`;
  const args = tool ? JSON.stringify(tool.arguments) : '';

  const outputItem = tool
    ? {
        type: 'function_call',
        id: itemId,
        call_id: callId,
        name: tool.name,
        arguments: args,
        status: 'completed',
      }
    : {
        type: 'message',
        id: messageId,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      };
  const response = (status: 'in_progress' | 'completed', output: unknown[], withUsage: boolean) => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: withUsage ? usageObject(usage) : null,
    user: null,
    metadata: {},
  });

  if (body.stream !== true) {
    sendJson(
      res,
      200,
      response('completed', [outputItem], true),
      { 'x-request-id': `req_${nextId()}` },
      scenario.headers,
    );
    return;
  }

  let sequence = 0;
  const frames: string[] = [];
  const emit = (type: string, payload: Record<string, unknown>) => {
    frames.push(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`,
    );
  };
  emit('response.created', { response: response('in_progress', [], false) });
  emit('response.in_progress', { response: response('in_progress', [], false) });
  if (tool) {
    emit('response.output_item.added', {
      output_index: 0,
      item: {
        type: 'function_call',
        id: itemId,
        call_id: callId,
        name: tool.name,
        arguments: '',
        status: 'in_progress',
      },
    });
    for (const piece of splitJson(args)) {
      emit('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: piece });
    }
    emit('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: args });
  } else {
    emit('response.output_item.added', {
      output_index: 0,
      item: { type: 'message', id: messageId, status: 'in_progress', role: 'assistant', content: [] },
    });
    const part = { type: 'output_text', text: '', annotations: [] };
    emit('response.content_part.added', { item_id: messageId, output_index: 0, content_index: 0, part });
    for (const piece of splitText(text ?? '')) {
      emit('response.output_text.delta', {
        item_id: messageId,
        output_index: 0,
        content_index: 0,
        delta: piece,
        logprobs: [],
      });
    }
    emit('response.output_text.done', {
      item_id: messageId,
      output_index: 0,
      content_index: 0,
      text,
      logprobs: [],
    });
    emit('response.content_part.done', {
      item_id: messageId,
      output_index: 0,
      content_index: 0,
      part: { ...part, text },
    });
  }
  emit('response.output_item.done', { output_index: 0, item: outputItem });
  emit('response.completed', { response: response('completed', [outputItem], true) });
  await sendSse(res, frames, scenario, { 'x-request-id': `req_${nextId()}` });
}

function usageObject(usage: MockUsage) {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/**
 * OpenAI's embeddings (`POST /v1/embeddings`): one small deterministic vector per input.
 * @see https://platform.openai.com/docs/api-reference/embeddings
 */
export function openaiEmbeddings(res: ServerResponse, body: JsonBody, scenario: MockScenario): void {
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (model === undefined || body.input === undefined) {
    openaiError(res, 400, undefined, { message: "Missing required parameter: 'model' or 'input'." });
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    openaiError(res, scenario.status, scenario.headers, { model });
    return;
  }
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const promptTokens = scenario.usage?.inputTokens ?? inputs.length * 5;
  sendJson(
    res,
    200,
    {
      object: 'list',
      data: inputs.map((_input, index) => ({
        object: 'embedding',
        index,
        embedding: [0.1, -0.2, 0.3 + index],
      })),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
    { 'x-request-id': `req_${nextId()}` },
    scenario.headers,
  );
}
