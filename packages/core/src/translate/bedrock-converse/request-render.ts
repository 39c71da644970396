/**
 * Neutral request → Bedrock Converse request body. Neither the model nor `stream` is written:
 * the provider module puts the model id in the URL and picks `/converse` or `/converse-stream`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/tool-use-inference-call.html
 */
import type { NeutralMessage, NeutralRequest, Translated, TranslationWarning } from '../neutral.js';
import { type RenderContentOptions, renderPart } from './content.js';

/**
 * Thinking budgets for an effort-only request. Anthropic's minimum budget is 1024 tokens; the
 * others are round numbers in the ranges Anthropic's extended-thinking guide suggests.
 */
const budgetByEffort = { minimal: 1024, low: 4096, medium: 10240, high: 32768 } as const;

function hasToolBlocks(messages: NeutralMessage[]): boolean {
  return messages.some((message) =>
    message.content.some((part) => part.type === 'tool-call' || part.type === 'tool-result'),
  );
}

function renderMessages(
  messages: NeutralMessage[],
  options: RenderContentOptions,
  warnings: TranslationWarning[],
): Record<string, unknown>[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content.flatMap((part) => renderPart(part, options, warnings)),
  }));
}

function renderToolChoice(choice: NeutralRequest['toolChoice']): Record<string, unknown> | undefined {
  if (choice === undefined || choice === 'none') return undefined;
  if (choice === 'auto') return { auto: {} };
  if (choice === 'required') return { any: {} };
  return { tool: { name: choice.name } };
}

/**
 * Bedrock has no `none` tool choice and refuses toolUse/toolResult blocks unless a `toolConfig`
 * is present. So `none` withholds the tools — unless the history has tool blocks, in which case
 * the tools stay (the model may then call one) — and a tool history without tools is spelled
 * out as text.
 */
function renderTools(request: NeutralRequest, warnings: TranslationWarning[]) {
  const toolHistory = hasToolBlocks(request.messages);
  const toolBlocksAsText = toolHistory && request.tools.length === 0;
  if (toolBlocksAsText) {
    warnings.push({
      kind: 'approximated',
      feature: 'tool_history',
      detail: 'no tools offered, so earlier tool calls and results are sent as text',
    });
  }
  if (request.tools.length === 0) {
    if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
      warnings.push({ kind: 'dropped', feature: 'tool_choice', detail: 'no tools to choose from' });
    }
    return { toolConfig: undefined, toolBlocksAsText };
  }
  if (request.toolChoice === 'none' && !toolHistory) {
    warnings.push({
      kind: 'dropped',
      feature: 'tools',
      detail: 'Bedrock has no tool_choice none: tools withheld',
    });
    return { toolConfig: undefined, toolBlocksAsText };
  }
  if (request.toolChoice === 'none') {
    warnings.push({
      kind: 'approximated',
      feature: 'tool_choice',
      detail: 'Bedrock has no tool_choice none and needs the tools for the tool history: sent as auto',
    });
  }
  const toolConfig: Record<string, unknown> = {
    tools: request.tools.map((tool) => ({
      toolSpec: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        inputSchema: { json: tool.inputSchema },
      },
    })),
  };
  const toolChoice = renderToolChoice(request.toolChoice);
  if (toolChoice !== undefined) toolConfig.toolChoice = toolChoice;
  return { toolConfig, toolBlocksAsText };
}

/** `additionalModelRequestFields` reach the model untouched, so only models that know the field accept it. */
function renderAdditionalFields(request: NeutralRequest, warnings: TranslationWarning[]) {
  const fields: Record<string, unknown> = {};
  if (request.topK !== undefined) {
    fields.top_k = request.topK;
    warnings.push({
      kind: 'approximated',
      feature: 'top_k',
      detail: 'sent as additionalModelRequestFields.top_k, which only some models (e.g. Claude) accept',
    });
  }
  const reasoning = request.reasoning;
  if (reasoning !== undefined && (reasoning.budgetTokens !== undefined || reasoning.effort !== undefined)) {
    const budget =
      reasoning.budgetTokens ??
      (reasoning.effort !== undefined ? budgetByEffort[reasoning.effort] : undefined);
    fields.thinking = { type: 'enabled', budget_tokens: budget };
    warnings.push({
      kind: 'approximated',
      feature: 'reasoning',
      detail:
        reasoning.budgetTokens !== undefined
          ? 'sent as Anthropic thinking in additionalModelRequestFields (Claude models only)'
          : `effort ${reasoning.effort} sent as a thinking budget of ${budget} tokens (Claude models only)`,
    });
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

/** @see https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html */
function renderOutputConfig(request: NeutralRequest, warnings: TranslationWarning[]) {
  const format = request.responseFormat;
  if (format === undefined) return undefined;
  if (format.schema === undefined) {
    warnings.push({
      kind: 'approximated',
      feature: 'response_format',
      detail: 'Bedrock needs a schema: plain JSON sent as an object schema',
    });
  }
  const jsonSchema: Record<string, unknown> = { schema: JSON.stringify(format.schema ?? { type: 'object' }) };
  if (format.name !== undefined) jsonSchema.name = format.name;
  return { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
}

export function renderRequest(request: NeutralRequest): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  const { toolConfig, toolBlocksAsText } = renderTools(request, warnings);
  const body: Record<string, unknown> = {
    messages: renderMessages(request.messages, { toolBlocksAsText, requireSignedReasoning: true }, warnings),
  };
  if (request.system.length > 0) {
    body.system = request.system.flatMap((part) =>
      renderPart(part, { toolBlocksAsText, requireSignedReasoning: true }, warnings),
    );
  }
  const inferenceConfig: Record<string, unknown> = {};
  if (request.maxOutputTokens !== undefined) inferenceConfig.maxTokens = request.maxOutputTokens;
  if (request.temperature !== undefined) inferenceConfig.temperature = request.temperature;
  if (request.topP !== undefined) inferenceConfig.topP = request.topP;
  if (request.stopSequences.length > 0) inferenceConfig.stopSequences = request.stopSequences;
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  if (toolConfig !== undefined) body.toolConfig = toolConfig;
  const additionalModelRequestFields = renderAdditionalFields(request, warnings);
  if (additionalModelRequestFields !== undefined)
    body.additionalModelRequestFields = additionalModelRequestFields;
  const outputConfig = renderOutputConfig(request, warnings);
  if (outputConfig !== undefined) body.outputConfig = outputConfig;
  if (request.parallelToolCalls !== undefined) {
    warnings.push({ kind: 'dropped', feature: 'parallel_tool_calls', detail: 'Converse has no such switch' });
  }
  if (request.user !== undefined) warnings.push({ kind: 'dropped', feature: 'user' });
  return { value: body, warnings };
}
