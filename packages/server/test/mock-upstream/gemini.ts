/**
 * Mock of Google AI Studio's Gemini API (v1beta): `models/{model}:generateContent`,
 * `:streamGenerateContent` (SSE with `?alt=sse`, Google's JSON array without) and `:countTokens`,
 * authenticated with `x-goog-api-key` or `?key=`.
 * @see https://ai.google.dev/api/generate-content
 * @see https://ai.google.dev/api/tokens
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DEFAULT_TEXT,
  defaultUsage,
  isGone,
  type JsonBody,
  type MockScenario,
  nextId,
  sendJson,
  sendSse,
  splitText,
} from './shared.js';

const GEMINI_PATH = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;

/** Google's status names per HTTP status. @see https://ai.google.dev/gemini-api/docs/troubleshooting */
const STATUS: Record<number, [status: string, message: string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.'],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
};

/** The Gemini API's error body: `{error: {code, message, status, details?}}`. */
export function geminiError(
  res: ServerResponse,
  status: number,
  extra?: Record<string, string>,
  message?: string,
  details?: unknown[],
): void {
  const [name, defaultMessage] =
    STATUS[status] ?? (status >= 500 ? ['INTERNAL', 'Internal error'] : ['INVALID_ARGUMENT', 'Bad request']);
  const error: JsonBody = { code: status, message: message ?? defaultMessage, status: name };
  if (details) error.details = details;
  sendJson(res, status, { error }, {}, extra);
}

/**
 * Answers as AI Studio does when the key is missing (403) or not valid (400, not 401) and
 * returns true; false when the key is right.
 */
function geminiAuthFails(req: IncomingMessage, res: ServerResponse, search: string, apiKey: string): boolean {
  const header = req.headers['x-goog-api-key'];
  const key = typeof header === 'string' ? header : new URLSearchParams(search).get('key');
  if (key === apiKey) return false;
  if (key === null || key === '') {
    geminiError(
      res,
      403,
      undefined,
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
    return true;
  }
  geminiError(res, 400, undefined, 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);
  return true;
}

function usageMetadata(body: JsonBody, scenario: MockScenario): JsonBody {
  const usage = scenario.usage ?? defaultUsage({ messages: body.contents });
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens,
    totalTokenCount: usage.inputTokens + usage.outputTokens + (usage.reasoningTokens ?? 0),
    ...(usage.cacheReadTokens ? { cachedContentTokenCount: usage.cacheReadTokens } : {}),
    ...(usage.reasoningTokens ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.inputTokens }],
  };
}

/**
 * `generateContent` and `streamGenerateContent`: every chunk a whole `GenerateContentResponse`,
 * the last one with `finishReason` and the total `usageMetadata`.
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 */
async function generate(
  res: ServerResponse,
  model: string,
  body: JsonBody,
  stream: 'sse' | 'json-array' | false,
  scenario: MockScenario,
): Promise<void> {
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    geminiError(res, 400, undefined, '* GenerateContentRequest.contents: contents is not specified\n');
    return;
  }
  const tool = scenario.toolCall;
  const text = tool ? scenario.text : (scenario.text ?? DEFAULT_TEXT);
  const base = { modelVersion: model, responseId: nextId() };
  const toolParts = tool ? [{ functionCall: { name: tool.name, args: tool.arguments } }] : [];
  const usage = usageMetadata(body, scenario);
  if (stream === false) {
    const parts = [...(text === undefined ? [] : [{ text }]), ...toolParts];
    sendJson(
      res,
      200,
      {
        candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: usage,
        ...base,
      },
      {},
      scenario.headers,
    );
    return;
  }
  const pieces = text === undefined ? [] : splitText(text);
  const chunks: JsonBody[] = pieces.map((piece) => ({
    candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }],
    usageMetadata: { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount },
    ...base,
  }));
  chunks.push({
    candidates: [
      {
        content: { parts: toolParts.length > 0 ? toolParts : [{ text: '' }], role: 'model' },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: usage,
    ...base,
  });
  if (stream === 'json-array') {
    if (isGone(res)) return;
    // Without alt=sse Google streams one JSON array, written element by element.
    const payload = `[${chunks.map((chunk) => JSON.stringify(chunk)).join(',\r\n')}]`;
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', ...scenario.headers });
    res.end(payload);
    return;
  }
  // Google frames its SSE with CRLF.
  await sendSse(
    res,
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`),
    scenario,
    {},
  );
}

/** `POST /v1beta/models/{model}:{method}`; anything else under `/v1beta/` gets 404. */
export async function geminiRoute(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
  raw: string,
  apiKey: string,
  next: () => MockScenario,
): Promise<void> {
  if (req.method === 'GET' && path === '/v1beta/models') {
    // @see https://ai.google.dev/api/models#method:-models.list
    if (geminiAuthFails(req, res, search, apiKey)) return;
    sendJson(
      res,
      200,
      { models: [{ name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' }] },
      {},
    );
    return;
  }
  const match = GEMINI_PATH.exec(path);
  if (req.method !== 'POST' || !match) {
    geminiError(res, 404, undefined, `The requested URL ${path} was not found on this server.`);
    return;
  }
  if (geminiAuthFails(req, res, search, apiKey)) return;
  let body: JsonBody;
  try {
    body = JSON.parse(raw) as JsonBody;
  } catch {
    geminiError(res, 400, undefined, `Invalid JSON payload received. Unexpected token.\n${raw.slice(0, 20)}`);
    return;
  }
  const model = decodeURIComponent(match[1] as string);
  const method = match[2] as string;
  if (method === 'countTokens') {
    if (isGone(res)) return;
    // Either `contents`, or a whole `generateContentRequest` (with its own `model`).
    const request = (body.generateContentRequest as JsonBody | undefined) ?? body;
    const usage = usageMetadata(request, {});
    sendJson(
      res,
      200,
      { totalTokens: usage.promptTokenCount, promptTokensDetails: usage.promptTokensDetails },
      {},
    );
    return;
  }
  if (method !== 'generateContent' && method !== 'streamGenerateContent') {
    geminiError(res, 404, undefined, `Method not found: ${method}.`);
    return;
  }
  const scenario = next();
  if (scenario.firstByteDelayMs)
    await new Promise((resolve) => setTimeout(resolve, scenario.firstByteDelayMs));
  if (scenario.body !== undefined) {
    sendJson(res, scenario.status ?? 200, scenario.body, {}, scenario.headers);
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    geminiError(res, scenario.status, scenario.headers);
    return;
  }
  const stream =
    method === 'generateContent'
      ? false
      : new URLSearchParams(search).get('alt') === 'sse'
        ? 'sse'
        : 'json-array';
  await generate(res, model, body, stream, scenario);
}
