/**
 * OpenAI Responses request bodies ↔ the neutral request.
 * @see https://platform.openai.com/docs/api-reference/responses/create
 */
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json.js';
import type {
  NeutralRequest,
  NeutralTool,
  NeutralToolChoice,
  Translated,
  TranslationWarning,
} from '../neutral.js';
import { parseInput, renderInput } from './input-items.js';

/** Top-level fields this mapper reads; any other field is reported as dropped. */
const handledFields = new Set([
  'model',
  'instructions',
  'input',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'reasoning',
  'text',
  'store',
  'include',
  'user',
  'previous_response_id',
]);

const efforts = ['minimal', 'low', 'medium', 'high'] as const;
type Effort = (typeof efforts)[number];

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function parseTools(tools: unknown, warnings: TranslationWarning[]): NeutralTool[] {
  if (!Array.isArray(tools)) return [];
  const parsed: NeutralTool[] = [];
  for (const tool of tools) {
    if (!isRecord(tool)) continue;
    if (tool.type !== 'function') {
      // Hosted tools (web_search, file_search, local_shell, custom …) run inside OpenAI only.
      warnings.push({ kind: 'dropped', feature: `tools.${String(tool.type)}` });
      continue;
    }
    if (tool.strict === true)
      warnings.push({ kind: 'dropped', feature: 'tools.strict', detail: String(tool.name) });
    parsed.push({
      name: typeof tool.name === 'string' ? tool.name : '',
      description: typeof tool.description === 'string' ? tool.description : undefined,
      inputSchema: isRecord(tool.parameters) ? tool.parameters : { type: 'object', properties: {} },
    });
  }
  return parsed;
}

/** @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-tool_choice */
function parseToolChoice(choice: unknown, warnings: TranslationWarning[]): NeutralToolChoice | undefined {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (!isRecord(choice)) return undefined;
  if (choice.type === 'function' && typeof choice.name === 'string')
    return { type: 'tool', name: choice.name };
  if (choice.type === 'allowed_tools') {
    warnings.push({
      kind: 'approximated',
      feature: 'tool_choice.allowed_tools',
      detail: 'all tools stay allowed',
    });
    return choice.mode === 'required' ? 'required' : 'auto';
  }
  warnings.push({ kind: 'dropped', feature: `tool_choice.${String(choice.type)}` });
  return undefined;
}

function parseReasoning(reasoning: unknown, warnings: TranslationWarning[]): NeutralRequest['reasoning'] {
  if (!isRecord(reasoning)) return undefined;
  // `summary: 'auto'` is what renderRequest asks for anyway; other settings have no neutral form.
  if (reasoning.summary !== undefined && reasoning.summary !== null && reasoning.summary !== 'auto') {
    warnings.push({
      kind: 'approximated',
      feature: 'reasoning.summary',
      detail: `${String(reasoning.summary)} → auto`,
    });
  }
  const effort = reasoning.effort;
  if (effort === undefined || effort === null) return { budgetTokens: undefined, effort: undefined };
  if (efforts.includes(effort as Effort)) return { budgetTokens: undefined, effort: effort as Effort };
  if (effort === 'none') {
    warnings.push({ kind: 'dropped', feature: 'reasoning.effort', detail: 'none' });
    return undefined;
  }
  warnings.push({ kind: 'clamped', feature: 'reasoning.effort', detail: `${String(effort)} → high` });
  return { budgetTokens: undefined, effort: 'high' };
}

function parseTextFormat(text: unknown, warnings: TranslationWarning[]): NeutralRequest['responseFormat'] {
  if (!isRecord(text)) return undefined;
  if (text.verbosity !== undefined) warnings.push({ kind: 'dropped', feature: 'text.verbosity' });
  const format = text.format;
  if (!isRecord(format)) return undefined;
  if (format.type === 'json_object') return { type: 'json', schema: undefined, name: undefined };
  if (format.type !== 'json_schema') return undefined;
  if (format.strict === true) warnings.push({ kind: 'dropped', feature: 'text.format.strict' });
  return {
    type: 'json',
    schema: isRecord(format.schema) ? format.schema : undefined,
    name: typeof format.name === 'string' ? format.name : undefined,
  };
}

/** A Responses request body as the neutral request. */
export function parseRequest(body: unknown): Translated<NeutralRequest> {
  if (!isRecord(body)) throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw new GatewayError(
      'invalid_request',
      'previous_response_id refers to a conversation stored by OpenAI and cannot be translated for another provider; send the full input instead.',
    );
  }
  const warnings: TranslationWarning[] = [];
  for (const key of Object.keys(body)) {
    if (!handledFields.has(key) && body[key] !== undefined && body[key] !== null) {
      warnings.push({ kind: 'dropped', feature: key });
    }
  }
  // Nothing is stored at another provider, so `store: true` cannot be honoured.
  if (body.store === true) warnings.push({ kind: 'dropped', feature: 'store' });
  if (Array.isArray(body.include)) {
    for (const entry of body.include) {
      if (entry !== 'reasoning.encrypted_content')
        warnings.push({ kind: 'dropped', feature: `include.${String(entry)}` });
    }
  }

  const { system, messages } = parseInput(body.input, warnings);
  if (typeof body.instructions === 'string' && body.instructions !== '') {
    system.unshift({ type: 'text', text: body.instructions });
  }
  return {
    value: {
      model: typeof body.model === 'string' ? body.model : '',
      system,
      messages,
      tools: parseTools(body.tools, warnings),
      toolChoice: parseToolChoice(body.tool_choice, warnings),
      parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : undefined,
      maxOutputTokens: optionalNumber(body.max_output_tokens),
      temperature: optionalNumber(body.temperature),
      topP: optionalNumber(body.top_p),
      topK: undefined,
      stopSequences: [],
      stream: body.stream === true,
      reasoning: parseReasoning(body.reasoning, warnings),
      responseFormat: parseTextFormat(body.text, warnings),
      user: typeof body.user === 'string' ? body.user : undefined,
    },
    warnings,
  };
}

/** Budget-only reasoning (Anthropic, Gemini) mapped onto OpenAI's effort scale. */
function effortFromBudget(budget: number): Effort {
  if (budget === 0) return 'minimal';
  if (budget <= 1024) return 'low';
  if (budget <= 8192) return 'medium';
  return 'high';
}

/** The neutral request as a Responses request body. */
export function renderRequest(request: NeutralRequest): Translated<Record<string, unknown>> {
  const warnings: TranslationWarning[] = [];
  const body: Record<string, unknown> = { model: request.model };
  if (request.system.length > 0) body.instructions = request.system.map((part) => part.text).join('\n\n');
  body.input = renderInput(request.messages, warnings);
  if (request.tools.length > 0) {
    // Responses defaults `strict` to true, which rejects most hand-written schemas: ask for false.
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.inputSchema,
      strict: false,
    }));
  }
  const choice = request.toolChoice;
  if (choice !== undefined)
    body.tool_choice = typeof choice === 'string' ? choice : { type: 'function', name: choice.name };
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.maxOutputTokens !== undefined) body.max_output_tokens = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) warnings.push({ kind: 'dropped', feature: 'top_k' });
  if (request.stopSequences.length > 0) warnings.push({ kind: 'dropped', feature: 'stop_sequences' });
  if (request.stream) body.stream = true;
  if (request.reasoning !== undefined) {
    const { effort, budgetTokens } = request.reasoning;
    // Reasoning summaries are the only reasoning text OpenAI returns; without them a client that
    // shows thinking would see nothing.
    const reasoning: Record<string, unknown> = {};
    if (effort !== undefined) reasoning.effort = effort;
    else if (budgetTokens !== undefined) {
      reasoning.effort = effortFromBudget(budgetTokens);
      warnings.push({
        kind: 'approximated',
        feature: 'reasoning.budget_tokens',
        detail: `→ effort ${reasoning.effort}`,
      });
    }
    reasoning.summary = 'auto';
    body.reasoning = reasoning;
  }
  const format = request.responseFormat;
  if (format !== undefined) {
    body.text = {
      format:
        format.schema === undefined
          ? { type: 'json_object' }
          : { type: 'json_schema', name: format.name ?? 'response', schema: format.schema },
    };
  }
  // The gateway never uses previous_response_id, so keeping a copy at OpenAI serves no one.
  body.store = false;
  if (request.user !== undefined) body.user = request.user;
  return { value: body, warnings };
}
