/**
 * An OpenAI Chat Completions request body → neutral request.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */

import { isRecord, optionalNumber, optionalString } from '../../json.js';
import type {
  NeutralAssistantPart,
  NeutralMessage,
  NeutralRequest,
  NeutralTextPart,
  NeutralTool,
  NeutralToolChoice,
  NeutralToolResultPart,
  NeutralUserPart,
  Translated,
} from '../neutral.js';
import { invalid, Warnings } from '../warnings.js';
import { parseArguments, parseImageUrl } from './shared.js';

/**
 * Top-level fields this parser reads. `stream_options` is transport: the gateway asks the
 * provider for usage itself. Any other field is reported as dropped, never ignored silently.
 */
const handledFields = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'stream_options',
  'reasoning_effort',
  'response_format',
  'user',
  'n',
]);

const efforts = new Set(['minimal', 'low', 'medium', 'high']);

export function parseOpenAiChatRequest(body: unknown): Translated<NeutralRequest> {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  const warnings = new Warnings();
  const model = optionalString(body.model);
  if (!model) throw invalid('`model` is required.');
  if (!Array.isArray(body.messages)) throw invalid('`messages` must be an array.');
  if (body.n !== undefined && body.n !== null && body.n !== 1)
    throw invalid('`n` other than 1 cannot be translated for this provider.');
  for (const key of Object.keys(body)) if (!handledFields.has(key)) warnings.add('dropped', key);

  const system: NeutralTextPart[] = [];
  const messages: NeutralMessage[] = [];
  for (const message of body.messages) parseMessage(message, system, messages, warnings);

  const effort = optionalString(body.reasoning_effort);
  if (effort !== undefined && effort !== 'none' && !efforts.has(effort))
    warnings.add('dropped', 'reasoning_effort', effort);
  const value: NeutralRequest = {
    model,
    system,
    messages,
    tools: parseTools(body.tools, warnings),
    toolChoice: parseToolChoice(body.tool_choice),
    parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
    // max_tokens is the deprecated spelling; the newer field wins when both are present.
    maxOutputTokens: optionalNumber(body.max_completion_tokens) ?? optionalNumber(body.max_tokens),
    temperature: optionalNumber(body.temperature),
    topP: optionalNumber(body.top_p),
    topK: undefined,
    stopSequences:
      typeof body.stop === 'string'
        ? [body.stop]
        : Array.isArray(body.stop)
          ? body.stop.filter((s): s is string => typeof s === 'string')
          : [],
    stream: body.stream === true,
    reasoning:
      effort !== undefined && efforts.has(effort)
        ? { budgetTokens: undefined, effort: effort as 'minimal' | 'low' | 'medium' | 'high' }
        : undefined,
    responseFormat: parseResponseFormat(body.response_format, warnings),
    user: optionalString(body.user),
  };
  return { value, warnings: warnings.list };
}

/**
 * System and developer messages become neutral system parts; tool messages become tool-result
 * parts of a user turn, consecutive ones merged into one turn as Anthropic expects them.
 */
function parseMessage(
  message: unknown,
  system: NeutralTextPart[],
  messages: NeutralMessage[],
  warnings: Warnings,
): void {
  if (!isRecord(message)) throw invalid('Each message must be an object.');
  switch (message.role) {
    case 'system':
    case 'developer':
      if (messages.length > 0)
        warnings.add(
          'approximated',
          'system',
          'a system message inside the conversation was moved to the top',
        );
      system.push(...textParts(message.content, warnings));
      return;
    case 'user':
      messages.push({ role: 'user', content: userParts(message.content, warnings) });
      return;
    case 'assistant':
      messages.push({ role: 'assistant', content: assistantParts(message, warnings) });
      return;
    case 'tool': {
      const result: NeutralToolResultPart = {
        type: 'tool-result',
        toolCallId: optionalString(message.tool_call_id) ?? '',
        toolName: undefined,
        content: textParts(message.content, warnings),
        isError: false,
      };
      const previous = messages.at(-1);
      const mergeable =
        previous?.role === 'user' && previous.content.every((part) => part.type === 'tool-result');
      if (previous?.role === 'user' && mergeable) previous.content.push(result);
      else messages.push({ role: 'user', content: [result] });
      return;
    }
    case 'function':
      throw invalid('Legacy `function` messages cannot be translated; use `tool` messages.');
    default:
      throw invalid(`Message role '${String(message.role)}' is not valid in Chat Completions.`);
  }
}

/** Content that may only hold text (system, developer, tool): a string or text parts. */
function textParts(content: unknown, warnings: Warnings): NeutralTextPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part): NeutralTextPart[] => {
    if (isRecord(part) && part.type === 'text')
      return [{ type: 'text', text: optionalString(part.text) ?? '' }];
    warnings.add('dropped', `content_part:${isRecord(part) ? String(part.type) : 'invalid'}`);
    return [];
  });
}

/**
 * User content: text and images. Audio and files have no neutral form and are refused.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages
 */
function userParts(content: unknown, warnings: Warnings): NeutralUserPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid('User message `content` must be a string or an array of parts.');
  return content.map((part): NeutralUserPart => {
    if (!isRecord(part)) throw invalid('Each content part must be an object.');
    if (part.type === 'text') return { type: 'text', text: optionalString(part.text) ?? '' };
    if (part.type === 'image_url') {
      const image = isRecord(part.image_url) ? part.image_url : {};
      if (image.detail !== undefined && image.detail !== 'auto') warnings.add('dropped', 'image_url.detail');
      return { type: 'image', source: parseImageUrl(optionalString(image.url) ?? '') };
    }
    throw invalid(`Content part of type '${String(part.type)}' cannot be translated for this provider.`);
  });
}

/** Reasoning first (`reasoning_content`, as DeepSeek-style providers send it), then text, then calls. */
function assistantParts(message: Record<string, unknown>, warnings: Warnings): NeutralAssistantPart[] {
  if (message.function_call !== undefined && message.function_call !== null) {
    throw invalid('Legacy `function_call` cannot be translated; use `tool_calls`.');
  }
  const parts: NeutralAssistantPart[] = [];
  const reasoning = optionalString(message.reasoning_content);
  if (reasoning) parts.push({ type: 'reasoning', text: reasoning });
  if (typeof message.content === 'string') {
    if (message.content !== '') parts.push({ type: 'text', text: message.content });
  } else if (Array.isArray(message.content)) {
    for (const part of message.content) {
      if (!isRecord(part)) continue;
      if (part.type === 'text') parts.push({ type: 'text', text: optionalString(part.text) ?? '' });
      else if (part.type === 'refusal')
        parts.push({ type: 'text', text: optionalString(part.refusal) ?? '' });
    }
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : {};
      parts.push({
        type: 'tool-call',
        id: optionalString(call.id) ?? '',
        name: optionalString(fn.name) ?? '',
        input: parseArguments(fn.arguments, warnings),
      });
    }
  }
  return parts;
}

/** Only function tools translate; `strict` schema enforcement is OpenAI's own. */
function parseTools(tools: unknown, warnings: Warnings): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool): NeutralTool[] => {
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw invalid(
        `Tool of type '${isRecord(tool) ? String(tool.type) : 'invalid'}' cannot be translated for this provider.`,
      );
    }
    const fn = tool.function;
    if (fn.strict !== undefined) warnings.add('dropped', 'tools.function.strict');
    return [
      {
        name: optionalString(fn.name) ?? '',
        description: optionalString(fn.description),
        inputSchema: isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
      },
    ];
  });
}

/** @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice */
function parseToolChoice(choice: unknown): NeutralToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    return { type: 'tool', name: optionalString(choice.function.name) ?? '' };
  }
  throw invalid('This `tool_choice` cannot be translated for this provider.');
}

/** @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format */
function parseResponseFormat(format: unknown, warnings: Warnings): NeutralRequest['responseFormat'] {
  if (!isRecord(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json', schema: undefined, name: undefined };
  if (format.type === 'json_schema' && isRecord(format.json_schema)) {
    const spec = format.json_schema;
    if (spec.strict !== undefined) warnings.add('dropped', 'response_format.json_schema.strict');
    return {
      type: 'json',
      schema: isRecord(spec.schema) ? spec.schema : undefined,
      name: optionalString(spec.name),
    };
  }
  throw invalid(`response_format type '${String(format.type)}' cannot be translated for this provider.`);
}
