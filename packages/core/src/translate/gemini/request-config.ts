/**
 * Gemini tools, tool config and `generationConfig` ↔ the neutral request's settings.
 * @see https://ai.google.dev/api/caching#Tool
 * @see https://ai.google.dev/api/caching#ToolConfig
 * @see https://ai.google.dev/api/generate-content#generationconfig
 */

import { isRecord } from '../../json.js';
import type { NeutralRequest, NeutralTool, NeutralToolChoice, TranslationWarning } from '../neutral.js';
import { isGemini3OrLater } from './shared.js';

type Effort = 'minimal' | 'low' | 'medium' | 'high';

/**
 * `parameters` is Google's OpenAPI-subset Schema, whose `type` values are upper-case enum names
 * (`OBJECT`); JSON Schema spells them in lower case. Nothing else needs changing.
 */
function jsonSchemaFromGemini(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaFromGemini);
  if (!isRecord(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === 'type' && typeof value === 'string' ? value.toLowerCase() : jsonSchemaFromGemini(value),
    ]),
  );
}

function schemaObject(value: unknown): Record<string, unknown> | undefined {
  const schema = jsonSchemaFromGemini(value);
  return isRecord(schema) ? schema : undefined;
}

/** Function declarations and `toolConfig.functionCallingConfig` as neutral tools and choice. */
export function parseTools(
  tools: unknown,
  toolConfig: unknown,
  warnings: TranslationWarning[],
): { tools: NeutralTool[]; toolChoice: NeutralToolChoice | undefined } {
  const parsed: NeutralTool[] = [];
  for (const tool of Array.isArray(tools) ? tools : []) {
    if (!isRecord(tool)) continue;
    for (const [kind, value] of Object.entries(tool)) {
      if (kind !== 'functionDeclarations') {
        // Google Search, code execution, URL context… run inside Google only.
        warnings.push({ kind: 'dropped', feature: `tools.${kind}` });
        continue;
      }
      for (const declaration of Array.isArray(value) ? value : []) {
        if (!isRecord(declaration)) continue;
        parsed.push({
          name: typeof declaration.name === 'string' ? declaration.name : '',
          description: typeof declaration.description === 'string' ? declaration.description : undefined,
          inputSchema: (isRecord(declaration.parametersJsonSchema)
            ? declaration.parametersJsonSchema
            : schemaObject(declaration.parameters)) ?? { type: 'object', properties: {} },
        });
      }
    }
  }
  const config =
    isRecord(toolConfig) && isRecord(toolConfig.functionCallingConfig)
      ? toolConfig.functionCallingConfig
      : {};
  const allowed = Array.isArray(config.allowedFunctionNames) ? config.allowedFunctionNames : [];
  let toolChoice: NeutralToolChoice | undefined;
  if (config.mode === 'AUTO') toolChoice = 'auto';
  else if (config.mode === 'NONE') toolChoice = 'none';
  else if (config.mode === 'ANY') {
    toolChoice =
      allowed.length === 1 && typeof allowed[0] === 'string'
        ? { type: 'tool', name: allowed[0] }
        : 'required';
  } else if (config.mode === 'VALIDATED') {
    warnings.push({
      kind: 'approximated',
      feature: 'functionCallingConfig.mode',
      detail: 'VALIDATED → auto',
    });
    toolChoice = 'auto';
  }
  if (allowed.length > 1 || (allowed.length === 1 && config.mode !== 'ANY')) {
    warnings.push({ kind: 'dropped', feature: 'functionCallingConfig.allowedFunctionNames' });
  }
  return { tools: parsed, toolChoice };
}

const efforts: readonly string[] = ['minimal', 'low', 'medium', 'high'];

/** generationConfig fields that have no neutral form, reported when present. */
const droppedConfig = [
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseLogprobs',
  'logprobs',
  'responseModalities',
  'speechConfig',
  'mediaResolution',
  'enableEnhancedCivicAnswers',
];

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function parseThinking(thinking: unknown, warnings: TranslationWarning[]): NeutralRequest['reasoning'] {
  if (!isRecord(thinking)) return undefined;
  const budget = number(thinking.thinkingBudget);
  const level = typeof thinking.thinkingLevel === 'string' ? thinking.thinkingLevel.toLowerCase() : undefined;
  const effort = level !== undefined && efforts.includes(level) ? (level as Effort) : undefined;
  if (level !== undefined && effort === undefined) {
    warnings.push({ kind: 'dropped', feature: 'thinkingConfig.thinkingLevel', detail: level });
  }
  // A budget of 0 turns thinking off, and then there are no thoughts to include.
  if (budget !== 0 && thinking.includeThoughts !== true) {
    warnings.push({
      kind: 'approximated',
      feature: 'thinkingConfig.includeThoughts',
      detail: 'thoughts are returned',
    });
  }
  // -1 is Gemini's "dynamic": thinking on, amount left to the model.
  return { budgetTokens: budget === undefined || budget < 0 ? undefined : budget, effort };
}

/** The neutral request's sampling, output and thinking settings from `generationConfig`. */
export function parseGenerationConfig(
  config: unknown,
  warnings: TranslationWarning[],
): Pick<
  NeutralRequest,
  'maxOutputTokens' | 'temperature' | 'topP' | 'topK' | 'stopSequences' | 'reasoning' | 'responseFormat'
> {
  const fields = isRecord(config) ? config : {};
  for (const key of droppedConfig)
    if (fields[key] !== undefined) warnings.push({ kind: 'dropped', feature: key });
  if (number(fields.candidateCount) !== undefined && fields.candidateCount !== 1) {
    warnings.push({ kind: 'clamped', feature: 'candidateCount', detail: '→ 1' });
  }
  let responseFormat: NeutralRequest['responseFormat'];
  if (fields.responseMimeType === 'application/json') {
    const schema = isRecord(fields.responseJsonSchema)
      ? fields.responseJsonSchema
      : schemaObject(fields.responseSchema);
    responseFormat = { type: 'json', schema, name: undefined };
  } else if (fields.responseMimeType !== undefined && fields.responseMimeType !== 'text/plain') {
    warnings.push({ kind: 'dropped', feature: 'responseMimeType', detail: String(fields.responseMimeType) });
  }
  return {
    maxOutputTokens: number(fields.maxOutputTokens),
    temperature: number(fields.temperature),
    topP: number(fields.topP),
    topK: number(fields.topK),
    stopSequences: Array.isArray(fields.stopSequences)
      ? fields.stopSequences.filter((stop): stop is string => typeof stop === 'string')
      : [],
    reasoning: parseThinking(fields.thinkingConfig, warnings),
    responseFormat,
  };
}

/** Neutral tools as one `functionDeclarations` tool, and the choice as `toolConfig`. */
export function renderTools(
  request: NeutralRequest,
  warnings: TranslationWarning[],
): Record<string, unknown> {
  const rendered: Record<string, unknown> = {};
  if (request.tools.length > 0) {
    // parametersJsonSchema takes JSON Schema as clients write it; `parameters` rejects much of it.
    const functionDeclarations = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parametersJsonSchema: tool.inputSchema,
    }));
    rendered.tools = [{ functionDeclarations }];
  }
  const choice = request.toolChoice;
  if (choice === undefined) return rendered;
  if (typeof choice === 'object') {
    rendered.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  } else {
    const mode = { auto: 'AUTO', none: 'NONE', required: 'ANY' }[choice];
    rendered.toolConfig = { functionCallingConfig: { mode } };
  }
  if (request.tools.length === 0 && choice !== 'none') {
    warnings.push({ kind: 'dropped', feature: 'tool_choice', detail: 'no tools' });
    delete rendered.toolConfig;
  }
  return rendered;
}

/** Effort as a thinking budget, for models that take only budgets (Gemini 2.5). */
const budgetByEffort: Record<Effort, number> = { minimal: 512, low: 1024, medium: 8192, high: 24576 };

function renderThinking(
  request: NeutralRequest,
  warnings: TranslationWarning[],
): Record<string, unknown> | undefined {
  const reasoning = request.reasoning;
  if (reasoning === undefined) return undefined;
  if (reasoning.budgetTokens === 0) return { thinkingBudget: 0 };
  // Thoughts are asked for so clients that show thinking have something to show.
  const thinking: Record<string, unknown> = { includeThoughts: true };
  if (reasoning.budgetTokens !== undefined) thinking.thinkingBudget = reasoning.budgetTokens;
  else if (reasoning.effort !== undefined) {
    if (isGemini3OrLater(request.model)) thinking.thinkingLevel = reasoning.effort;
    else {
      thinking.thinkingBudget = budgetByEffort[reasoning.effort];
      warnings.push({
        kind: 'approximated',
        feature: 'reasoning.effort',
        detail: `→ thinkingBudget ${thinking.thinkingBudget}`,
      });
    }
  }
  return thinking;
}

/** The neutral settings as `generationConfig`; empty when nothing is set. */
export function renderGenerationConfig(
  request: NeutralRequest,
  warnings: TranslationWarning[],
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (request.maxOutputTokens !== undefined) config.maxOutputTokens = request.maxOutputTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.topK !== undefined) config.topK = request.topK;
  if (request.stopSequences.length > 0) config.stopSequences = request.stopSequences;
  if (request.responseFormat !== undefined) {
    config.responseMimeType = 'application/json';
    if (request.responseFormat.schema !== undefined)
      config.responseJsonSchema = request.responseFormat.schema;
  }
  const thinking = renderThinking(request, warnings);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  return config;
}
