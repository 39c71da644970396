/**
 * A neutral request → an OpenAI Chat Completions request body.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
import type {
  NeutralImagePart,
  NeutralMessage,
  NeutralRequest,
  NeutralToolChoice,
  Translated,
} from '../neutral.js';
import { Warnings } from '../warnings.js';
import { stringifyArguments } from './shared.js';

/** Chat Completions accepts at most four stop sequences. */
const MAX_STOP_SEQUENCES = 4;

export function renderOpenAiChatRequest(request: NeutralRequest): Translated<Record<string, unknown>> {
  const warnings = new Warnings();
  const messages: Record<string, unknown>[] = request.system.map((part) => ({
    role: 'system',
    content: part.text,
  }));
  for (const message of request.messages) messages.push(...renderMessage(message, warnings));

  const body: Record<string, unknown> = { model: request.model, messages };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.inputSchema,
      },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = renderToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined && request.tools.length > 0)
    body.parallel_tool_calls = request.parallelToolCalls;
  // max_completion_tokens: max_tokens is deprecated and refused by reasoning models.
  if (request.maxOutputTokens !== undefined) body.max_completion_tokens = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) warnings.add('dropped', 'top_k', 'Chat Completions has no top_k');
  if (request.stopSequences.length > MAX_STOP_SEQUENCES) {
    warnings.add('clamped', 'stop', `only the first ${MAX_STOP_SEQUENCES} stop sequences are sent`);
  }
  if (request.stopSequences.length > 0) body.stop = request.stopSequences.slice(0, MAX_STOP_SEQUENCES);
  if (request.stream) {
    body.stream = true;
    // The gateway meters every stream, so it always asks for the final usage chunk.
    body.stream_options = { include_usage: true };
  }
  const effort = renderEffort(request.reasoning, warnings);
  if (effort) body.reasoning_effort = effort;
  if (request.responseFormat) {
    const { schema, name } = request.responseFormat;
    body.response_format =
      schema === undefined
        ? { type: 'json_object' }
        : { type: 'json_schema', json_schema: { name: name ?? 'response', schema } };
  }
  if (request.user !== undefined) body.user = request.user;
  return { value: body, warnings: warnings.list };
}

/**
 * One neutral turn can become several Chat Completions messages: tool results must be `tool`
 * messages right after the assistant's calls, before any other user content.
 */
function renderMessage(message: NeutralMessage, warnings: Warnings): Record<string, unknown>[] {
  if (message.role === 'assistant') return [renderAssistant(message.content, warnings)];
  const rendered: Record<string, unknown>[] = [];
  const userContent: Record<string, unknown>[] = [];
  for (const part of message.content) {
    if (part.type === 'text') userContent.push({ type: 'text', text: part.text });
    else if (part.type === 'image') userContent.push(renderImage(part));
    else {
      if (part.isError)
        warnings.add('dropped', 'tool_result.is_error', 'Chat Completions tool messages have no error flag');
      const texts = part.content.filter((item) => item.type === 'text');
      const images = part.content.filter((item) => item.type === 'image');
      // Tool messages hold text only; images a tool returned follow in a user message instead.
      if (images.length > 0) {
        warnings.add(
          'approximated',
          'tool_result.image',
          'images from tool results sent in a following user message',
        );
        userContent.push(...images.map(renderImage));
      }
      const content =
        texts.length === 1 && texts[0]
          ? texts[0].text
          : texts.map((item) => ({ type: 'text', text: item.text }));
      rendered.push({ role: 'tool', tool_call_id: part.toolCallId, content });
    }
  }
  if (userContent.length > 0) {
    const only = userContent.length === 1 ? userContent[0] : undefined;
    rendered.push({ role: 'user', content: only?.type === 'text' ? only.text : userContent });
  }
  return rendered;
}

/**
 * Text joins into `content` (null when the turn only calls tools). Reasoning has no place in a
 * Chat Completions request, and signatures mean nothing to OpenAI, so it is dropped.
 */
function renderAssistant(
  parts: Extract<NeutralMessage, { role: 'assistant' }>['content'],
  warnings: Warnings,
): Record<string, unknown> {
  const texts: string[] = [];
  const toolCalls: Record<string, unknown>[] = [];
  for (const part of parts) {
    if (part.type === 'text') texts.push(part.text);
    else if (part.type === 'tool-call') {
      toolCalls.push({
        id: part.id,
        type: 'function',
        function: { name: part.name, arguments: stringifyArguments(part.input) },
      });
    } else warnings.add('dropped', 'reasoning', 'Chat Completions requests carry no reasoning');
  }
  const content =
    texts.length === 0 ? null : texts.length === 1 ? texts[0] : texts.map((text) => ({ type: 'text', text }));
  return { role: 'assistant', content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

function renderImage(part: NeutralImagePart): Record<string, unknown> {
  const url =
    part.source.kind === 'base64'
      ? `data:${part.source.mediaType};base64,${part.source.data}`
      : part.source.url;
  return { type: 'image_url', image_url: { url } };
}

function renderToolChoice(choice: NeutralToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

/**
 * A token budget (Anthropic, Gemini) becomes the nearest effort level.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort
 */
function renderEffort(reasoning: NeutralRequest['reasoning'], warnings: Warnings): string | undefined {
  if (reasoning === undefined) return undefined;
  if (reasoning.effort !== undefined) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  if (budget === undefined) return 'medium';
  const effort = budget <= 2048 ? 'low' : budget <= 16384 ? 'medium' : 'high';
  warnings.add(
    'approximated',
    'thinking.budget_tokens',
    `budget ${budget} sent as reasoning_effort '${effort}'`,
  );
  return effort;
}
