/**
 * A neutral request → an Anthropic Messages request body.
 * @see https://docs.anthropic.com/en/api/messages
 */
import type {
  NeutralAssistantPart,
  NeutralMessage,
  NeutralRequest,
  NeutralToolChoice,
  Translated,
} from '../neutral.js';
import { Warnings } from '../warnings.js';
import { renderToolInput, renderUserPart } from './content.js';

/**
 * Anthropic requires `max_tokens`; other dialects let it default. 4096 fits every current
 * Claude model's output limit.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's smallest accepted thinking budget. */
const MIN_THINKING_BUDGET = 1024;

/** Budgets for an effort level when the client spoke in efforts (OpenAI) rather than tokens. */
const budgetByEffort = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const;

export function renderAnthropicRequest(request: NeutralRequest): Translated<Record<string, unknown>> {
  const warnings = new Warnings();
  let maxTokens = request.maxOutputTokens;
  if (maxTokens === undefined) {
    maxTokens = DEFAULT_MAX_TOKENS;
    warnings.add('clamped', 'max_tokens', `Anthropic requires max_tokens; sent ${DEFAULT_MAX_TOKENS}`);
  }
  const body: Record<string, unknown> = { model: request.model, max_tokens: maxTokens };
  if (request.system.length === 1 && request.system[0]) body.system = request.system[0].text;
  else if (request.system.length > 1)
    body.system = request.system.map((part) => ({ type: 'text', text: part.text }));
  body.messages = request.messages.flatMap((message) => renderMessage(message, warnings) ?? []);

  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.inputSchema,
    }));
  }
  const toolChoice = renderToolChoice(request.toolChoice, request.parallelToolCalls);
  if (toolChoice) body.tool_choice = toolChoice;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.stopSequences.length > 0) body.stop_sequences = request.stopSequences;
  if (request.stream) body.stream = true;
  const thinking = renderThinking(request.reasoning, maxTokens, warnings);
  if (thinking) body.thinking = thinking;
  if (request.responseFormat)
    warnings.add('dropped', 'response_format', 'Anthropic Messages has no structured output mode');
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  return { value: body, warnings: warnings.list };
}

/** An assistant turn left empty by dropped reasoning is left out: Anthropic rejects empty content. */
function renderMessage(message: NeutralMessage, warnings: Warnings): Record<string, unknown> | undefined {
  if (message.role === 'user') return { role: 'user', content: message.content.map(renderUserPart) };
  const content = message.content.flatMap((part) => renderAssistantPart(part, warnings) ?? []);
  return content.length === 0 ? undefined : { role: 'assistant', content };
}

/**
 * Anthropic only accepts thinking it signed itself. Reasoning from another provider has no
 * signature, so it cannot be replayed and is dropped.
 */
function renderAssistantPart(
  part: NeutralAssistantPart,
  warnings: Warnings,
): Record<string, unknown> | undefined {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'tool-call':
      return { type: 'tool_use', id: part.id, name: part.name, input: renderToolInput(part.input, warnings) };
    case 'reasoning':
      if (part.encrypted !== undefined) return { type: 'redacted_thinking', data: part.encrypted };
      if (part.signature !== undefined)
        return { type: 'thinking', thinking: part.text, signature: part.signature };
      warnings.add('dropped', 'reasoning', 'unsigned reasoning cannot be sent back to Anthropic');
      return undefined;
  }
}

function renderToolChoice(
  choice: NeutralToolChoice | undefined,
  parallelToolCalls: boolean | undefined,
): Record<string, unknown> | undefined {
  const disable = parallelToolCalls === undefined ? {} : { disable_parallel_tool_use: !parallelToolCalls };
  if (choice === undefined) return parallelToolCalls === undefined ? undefined : { type: 'auto', ...disable };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  // Anthropic rejects disable_parallel_tool_use with `none`: no tool runs anyway.
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.name, ...disable };
}

/**
 * Budget must be at least 1024 and below max_tokens. An effort level becomes a budget; a
 * budget that cannot fit under max_tokens turns thinking off rather than fail the request.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size
 */
function renderThinking(
  reasoning: NeutralRequest['reasoning'],
  maxTokens: number,
  warnings: Warnings,
): Record<string, unknown> | undefined {
  if (reasoning === undefined) return undefined;
  let budget = reasoning.budgetTokens;
  if (budget === undefined) {
    budget = budgetByEffort[reasoning.effort ?? 'medium'];
    warnings.add(
      'approximated',
      'reasoning_effort',
      `effort '${reasoning.effort ?? 'default'}' sent as budget_tokens ${budget}`,
    );
  }
  if (budget < MIN_THINKING_BUDGET) {
    warnings.add('clamped', 'thinking.budget_tokens', `raised to ${MIN_THINKING_BUDGET}`);
    budget = MIN_THINKING_BUDGET;
  }
  if (budget >= maxTokens) {
    if (maxTokens - 1 < MIN_THINKING_BUDGET) {
      warnings.add('dropped', 'thinking', `max_tokens ${maxTokens} leaves no room for a thinking budget`);
      return undefined;
    }
    warnings.add('clamped', 'thinking.budget_tokens', `lowered to ${maxTokens - 1} to stay below max_tokens`);
    budget = maxTokens - 1;
  }
  return { type: 'enabled', budget_tokens: budget };
}
