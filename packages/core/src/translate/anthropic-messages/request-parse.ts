/**
 * An Anthropic Messages request body → neutral request.
 * @see https://docs.anthropic.com/en/api/messages
 */

import { isRecord, optionalNumber, optionalString } from '../../json.js';
import type {
  NeutralMessage,
  NeutralRequest,
  NeutralTextPart,
  NeutralTool,
  NeutralToolChoice,
  Translated,
} from '../neutral.js';
import { invalid, Warnings } from '../warnings.js';
import { parseAssistantBlock, parseUserBlock } from './content.js';

/** Top-level fields this parser reads; any other field is reported as dropped, never ignored silently. */
const handledFields = new Set([
  'model',
  'system',
  'messages',
  'tools',
  'tool_choice',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'stream',
  'thinking',
  'metadata',
]);

export function parseAnthropicRequest(body: unknown): Translated<NeutralRequest> {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  const warnings = new Warnings();
  const model = optionalString(body.model);
  if (!model) throw invalid('`model` is required.');
  if (!Array.isArray(body.messages)) throw invalid('`messages` must be an array.');
  for (const key of Object.keys(body)) if (!handledFields.has(key)) warnings.add('dropped', key);

  const { toolChoice, parallelToolCalls } = parseToolChoice(body.tool_choice);
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  const value: NeutralRequest = {
    model,
    system: parseSystem(body.system, warnings),
    messages: body.messages.map((message) => parseMessage(message, warnings)),
    tools: parseTools(body.tools, warnings),
    toolChoice,
    parallelToolCalls,
    maxOutputTokens: optionalNumber(body.max_tokens),
    temperature: optionalNumber(body.temperature),
    topP: optionalNumber(body.top_p),
    topK: optionalNumber(body.top_k),
    stopSequences: Array.isArray(body.stop_sequences)
      ? body.stop_sequences.filter((item): item is string => typeof item === 'string')
      : [],
    stream: body.stream === true,
    reasoning: parseThinking(body.thinking, warnings),
    responseFormat: undefined,
    user: optionalString(metadata.user_id),
  };
  return { value, warnings: warnings.list };
}

/** `system` is a string or a list of text blocks (which may carry `cache_control`). */
function parseSystem(system: unknown, warnings: Warnings): NeutralTextPart[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string') return system === '' ? [] : [{ type: 'text', text: system }];
  if (!Array.isArray(system)) throw invalid('`system` must be a string or an array of text blocks.');
  return system.map((block) => {
    if (!isRecord(block) || block.type !== 'text') throw invalid('`system` blocks must be text blocks.');
    if (block.cache_control !== undefined) warnings.add('dropped', 'cache_control');
    return { type: 'text', text: optionalString(block.text) ?? '' };
  });
}

function parseMessage(message: unknown, warnings: Warnings): NeutralMessage {
  if (!isRecord(message)) throw invalid('Each message must be an object.');
  const blocks =
    typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
  if (!Array.isArray(blocks)) throw invalid('Message `content` must be a string or an array of blocks.');
  if (message.role === 'user')
    return { role: 'user', content: blocks.map((block) => parseUserBlock(block, warnings)) };
  if (message.role === 'assistant') {
    const content = blocks.flatMap((block) => parseAssistantBlock(block, warnings) ?? []);
    return { role: 'assistant', content };
  }
  throw invalid(`Message role '${String(message.role)}' is not valid in Anthropic Messages.`);
}

/**
 * Client tools carry `input_schema`. Server tools (`web_search_…`, `bash_…`, `text_editor_…`)
 * are executed by Anthropic itself; another provider cannot run them, so they are dropped with
 * a warning rather than failing the whole request.
 * @see https://docs.anthropic.com/en/api/messages#body-tools
 */
function parseTools(tools: unknown, warnings: Warnings): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  const parsed: NeutralTool[] = [];
  for (const tool of tools) {
    if (!isRecord(tool)) continue;
    if (tool.type !== undefined && tool.type !== 'custom') {
      warnings.add('dropped', `tool:${String(tool.type)}`, 'server tools run only on Anthropic');
      continue;
    }
    if (tool.cache_control !== undefined) warnings.add('dropped', 'cache_control');
    parsed.push({
      name: optionalString(tool.name) ?? '',
      description: optionalString(tool.description),
      inputSchema: isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
    });
  }
  return parsed;
}

/**
 * `any` is "must call some tool", the neutral `required`. `disable_parallel_tool_use` lives
 * inside `tool_choice` here but is its own neutral field.
 * @see https://docs.anthropic.com/en/api/messages#body-tool-choice
 */
function parseToolChoice(choice: unknown): Pick<NeutralRequest, 'toolChoice' | 'parallelToolCalls'> {
  if (!isRecord(choice)) return { toolChoice: undefined, parallelToolCalls: undefined };
  const parallelToolCalls =
    typeof choice.disable_parallel_tool_use === 'boolean' ? !choice.disable_parallel_tool_use : undefined;
  let toolChoice: NeutralToolChoice | undefined;
  if (choice.type === 'auto') toolChoice = 'auto';
  else if (choice.type === 'any') toolChoice = 'required';
  else if (choice.type === 'none') toolChoice = 'none';
  else if (choice.type === 'tool') toolChoice = { type: 'tool', name: optionalString(choice.name) ?? '' };
  else throw invalid(`tool_choice type '${String(choice.type)}' is not valid in Anthropic Messages.`);
  return { toolChoice, parallelToolCalls };
}

/** @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking */
function parseThinking(thinking: unknown, warnings: Warnings): NeutralRequest['reasoning'] {
  if (!isRecord(thinking) || thinking.type === 'disabled') return undefined;
  if (thinking.type === 'enabled')
    return { budgetTokens: optionalNumber(thinking.budget_tokens), effort: undefined };
  warnings.add(
    'approximated',
    'thinking',
    `thinking type '${String(thinking.type)}' read as enabled without a budget`,
  );
  return { budgetTokens: undefined, effort: undefined };
}
