/**
 * Bedrock Converse request body ⇄ neutral request. The body is the same for `/converse` and
 * `/converse-stream`; the model id and the choice to stream live in the URL, so neither is in
 * the body: `parseRequest` leaves `model` empty and `stream` false for the route to fill in, and
 * `renderRequest` writes neither (the provider module builds the URL from them).
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
import { GatewayError } from '../../errors.js';
import { isRecord, optionalNumber, optionalString } from '../../json.js';
import type {
  NeutralMessage,
  NeutralRequest,
  NeutralTextPart,
  NeutralTool,
  NeutralToolChoice,
  Translated,
  TranslationWarning,
} from '../neutral.js';
import { parseAssistantContent, parseUserContent } from './content.js';

/** Top-level fields with no neutral counterpart; each is dropped with a warning naming it. */
const unsupportedFields = [
  'guardrailConfig',
  'promptVariables',
  'requestMetadata',
  'performanceConfig',
  'serviceTier',
  'additionalModelResponseFieldPaths',
];

function parseSystem(system: unknown, warnings: TranslationWarning[]): NeutralTextPart[] {
  if (!Array.isArray(system)) return [];
  const parts: NeutralTextPart[] = [];
  for (const block of system) {
    if (isRecord(block) && typeof block.text === 'string') parts.push({ type: 'text', text: block.text });
    else if (isRecord(block)) warnings.push({ kind: 'dropped', feature: `system.${Object.keys(block)[0]}` });
  }
  return parts;
}

function parseMessages(messages: unknown, warnings: TranslationWarning[]): NeutralMessage[] {
  if (!Array.isArray(messages)) {
    throw new GatewayError('invalid_request', 'Bedrock Converse request needs a `messages` array.');
  }
  return messages.map((message): NeutralMessage => {
    const content = isRecord(message) && Array.isArray(message.content) ? message.content : [];
    const role = isRecord(message) ? message.role : undefined;
    if (role === 'user') return { role, content: parseUserContent(content, warnings) };
    if (role === 'assistant') return { role, content: parseAssistantContent(content, warnings) };
    throw new GatewayError('invalid_request', 'Bedrock Converse message role must be `user` or `assistant`.');
  });
}

/**
 * `toolConfig`: tools wrap their schema in `toolSpec.inputSchema.json`, and the choice is a union
 * of `auto`, `any` and `tool` — there is no `none`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolConfiguration.html
 */
function parseToolConfig(
  toolConfig: unknown,
  warnings: TranslationWarning[],
): { tools: NeutralTool[]; toolChoice: NeutralToolChoice | undefined } {
  if (!isRecord(toolConfig)) return { tools: [], toolChoice: undefined };
  const tools: NeutralTool[] = [];
  for (const tool of Array.isArray(toolConfig.tools) ? toolConfig.tools : []) {
    if (isRecord(tool) && isRecord(tool.toolSpec)) {
      const spec = tool.toolSpec;
      const schema =
        isRecord(spec.inputSchema) && isRecord(spec.inputSchema.json) ? spec.inputSchema.json : {};
      tools.push({
        name: optionalString(spec.name) ?? '',
        description: optionalString(spec.description),
        inputSchema: schema,
      });
    } else if (isRecord(tool)) {
      warnings.push({ kind: 'dropped', feature: `toolConfig.tools.${Object.keys(tool)[0]}` });
    }
  }
  const choice = toolConfig.toolChoice;
  let toolChoice: NeutralToolChoice | undefined;
  if (isRecord(choice)) {
    if ('auto' in choice) toolChoice = 'auto';
    else if ('any' in choice) toolChoice = 'required';
    else if (isRecord(choice.tool))
      toolChoice = { type: 'tool', name: optionalString(choice.tool.name) ?? '' };
  }
  return { tools, toolChoice };
}

/**
 * `additionalModelRequestFields` is passed to the model untouched; only the two fields neutral
 * knows (Anthropic-style `top_k` and `thinking`) are read, the rest are dropped with a warning.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html
 */
function parseAdditionalFields(fields: unknown, warnings: TranslationWarning[]) {
  let topK: number | undefined;
  let reasoning: NeutralRequest['reasoning'];
  if (!isRecord(fields)) return { topK, reasoning };
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'top_k' && optionalNumber(value) !== undefined) topK = optionalNumber(value);
    else if (key === 'thinking' && isRecord(value) && value.type === 'enabled') {
      reasoning = { budgetTokens: optionalNumber(value.budget_tokens), effort: undefined };
    } else if (!(key === 'thinking' && isRecord(value) && value.type === 'disabled')) {
      warnings.push({ kind: 'dropped', feature: `additionalModelRequestFields.${key}` });
    }
  }
  return { topK, reasoning };
}

/** @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html */
function parseOutputConfig(
  outputConfig: unknown,
  warnings: TranslationWarning[],
): NeutralRequest['responseFormat'] {
  if (!isRecord(outputConfig)) return undefined;
  const format = outputConfig.textFormat;
  const definition = isRecord(format) && isRecord(format.structure) ? format.structure.jsonSchema : undefined;
  if (!isRecord(definition) || typeof definition.schema !== 'string') {
    warnings.push({
      kind: 'dropped',
      feature: 'outputConfig',
      detail: 'only textFormat json_schema is understood',
    });
    return undefined;
  }
  try {
    const schema: unknown = JSON.parse(definition.schema);
    return {
      type: 'json',
      schema: isRecord(schema) ? schema : undefined,
      name: optionalString(definition.name),
    };
  } catch {
    warnings.push({ kind: 'dropped', feature: 'outputConfig', detail: 'schema is not valid JSON' });
    return undefined;
  }
}

export function parseRequest(body: unknown): Translated<NeutralRequest> {
  if (!isRecord(body))
    throw new GatewayError('invalid_request', 'Bedrock Converse request body must be a JSON object.');
  const warnings: TranslationWarning[] = [];
  const messages = parseMessages(body.messages, warnings);
  const system = parseSystem(body.system, warnings);
  const inference = isRecord(body.inferenceConfig) ? body.inferenceConfig : {};
  const { tools, toolChoice } = parseToolConfig(body.toolConfig, warnings);
  const { topK, reasoning } = parseAdditionalFields(body.additionalModelRequestFields, warnings);
  const responseFormat = parseOutputConfig(body.outputConfig, warnings);
  for (const field of unsupportedFields) {
    if (body[field] !== undefined) warnings.push({ kind: 'dropped', feature: field });
  }
  const stopSequences = Array.isArray(inference.stopSequences)
    ? inference.stopSequences.filter((sequence): sequence is string => typeof sequence === 'string')
    : [];
  return {
    value: {
      // The model id is a path parameter (`/model/{modelId}/converse`): the route fills it in.
      model: '',
      system,
      messages,
      tools,
      toolChoice,
      parallelToolCalls: undefined,
      maxOutputTokens: optionalNumber(inference.maxTokens),
      temperature: optionalNumber(inference.temperature),
      topP: optionalNumber(inference.topP),
      topK,
      stopSequences,
      // Streaming is chosen by the endpoint (`/converse-stream`), not the body: the route sets it.
      stream: false,
      reasoning,
      responseFormat,
      user: undefined,
    },
    warnings,
  };
}
