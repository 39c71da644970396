/**
 * Mock of Google Vertex AI: Gemini (`generateContent`, `streamGenerateContent?alt=sse`,
 * `countTokens`) and Claude (`rawPredict`, `streamRawPredict`) under
 * `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`,
 * plus `POST /token`, an OAuth2 token endpoint for the JWT-bearer grant service accounts use.
 * Only tokens the mock minted are accepted.
 * @see https://cloud.google.com/vertex-ai/docs/reference/rest
 * @see https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { anthropicError, anthropicMessages } from './anthropic.js';
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

const VERTEX_PATH =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Access tokens the mock has minted; a bearer not in here gets 401. */
const mintedTokens = new Set<string>();

/** Google's error status names per HTTP status. @see https://cloud.google.com/apis/design/errors#handling_errors */
const STATUS: Record<number, [status: string, message: string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: [
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  ],
  403: ['PERMISSION_DENIED', "Permission 'aiplatform.endpoints.predict' denied on resource."],
  404: ['NOT_FOUND', 'Publisher Model was not found or your project does not have access to it.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource exhausted. Please try again later.'],
  500: ['INTERNAL', 'Internal error encountered.'],
  503: ['UNAVAILABLE', 'The service is currently unavailable.'],
};

export function googleError(
  res: ServerResponse,
  status: number,
  extra?: Record<string, string>,
  message?: string,
): void {
  const [name, defaultMessage] =
    STATUS[status] ?? (status >= 500 ? ['INTERNAL', 'Internal error'] : ['INVALID_ARGUMENT', 'Bad request']);
  sendJson(
    res,
    status,
    { error: { code: status, message: message ?? defaultMessage, status: name } },
    {},
    extra,
  );
}

/**
 * `POST /token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`.
 * Checks the grant and the assertion's claims (not its signature: the mock has no key to check it
 * with), and mints a token valid for an hour.
 */
export function vertexToken(res: ServerResponse, raw: string): void {
  const form = new URLSearchParams(raw);
  const fail = (description: string) =>
    sendJson(res, 400, { error: 'invalid_grant', error_description: description }, {});
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    fail('Invalid grant_type.');
    return;
  }
  const parts = (form.get('assertion') ?? '').split('.');
  let claims: { iss?: unknown; scope?: unknown; aud?: unknown; exp?: unknown; iat?: unknown };
  try {
    if (parts.length !== 3 || parts[2] === '') throw new Error('not a JWS');
    claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    fail('Invalid JWT: not a signed JWT.');
    return;
  }
  if (typeof claims.iss !== 'string' || typeof claims.aud !== 'string' || typeof claims.exp !== 'number') {
    fail('Invalid JWT: missing iss, aud or exp.');
    return;
  }
  if (
    typeof claims.scope !== 'string' ||
    !claims.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')
  ) {
    fail('Invalid JWT: the cloud-platform scope is required.');
    return;
  }
  const token = `ya29.mock-${nextId()}`;
  mintedTokens.add(token);
  sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' }, {});
}

function geminiUsage(body: JsonBody, scenario: MockScenario) {
  const usage = scenario.usage ?? defaultUsage({ messages: body.contents });
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens,
    totalTokenCount: usage.inputTokens + usage.outputTokens + (usage.reasoningTokens ?? 0),
    ...(usage.cacheReadTokens ? { cachedContentTokenCount: usage.cacheReadTokens } : {}),
    ...(usage.reasoningTokens ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
    trafficType: 'ON_DEMAND',
  };
}

/** generateContent / streamGenerateContent. @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference */
async function generate(
  res: ServerResponse,
  model: string,
  body: JsonBody,
  stream: boolean,
  scenario: MockScenario,
): Promise<void> {
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    googleError(res, 400, undefined, 'Unable to submit request because it has an empty contents field.');
    return;
  }
  const tool = scenario.toolCall;
  const text = tool ? scenario.text : (scenario.text ?? DEFAULT_TEXT);
  const usageMetadata = geminiUsage(body, scenario);
  const base = { modelVersion: model, createTime: new Date().toISOString(), responseId: nextId() };
  const toolPart = tool ? [{ functionCall: { name: tool.name, args: tool.arguments } }] : [];
  if (!stream) {
    const parts = [...(text === undefined ? [] : [{ text }]), ...toolPart];
    sendJson(
      res,
      200,
      { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }], usageMetadata, ...base },
      {},
      scenario.headers,
    );
    return;
  }
  const pieces = text === undefined ? [] : splitText(text);
  const chunks: JsonBody[] = pieces.map((piece) => ({
    candidates: [{ content: { role: 'model', parts: [{ text: piece }] } }],
    ...base,
  }));
  chunks.push({
    candidates: [
      {
        content: { role: 'model', parts: toolPart.length > 0 ? toolPart : [{ text: '' }] },
        finishReason: 'STOP',
      },
    ],
    usageMetadata,
    ...base,
  });
  // Google frames its SSE with CRLF.
  await sendSse(
    res,
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`),
    scenario,
    {},
  );
}

/**
 * `POST /v1/projects/…` (Vertex paths); anything else under it gets 404.
 */
export async function vertexRoute(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  search: string,
  raw: string,
  next: () => MockScenario,
): Promise<void> {
  const match = VERTEX_PATH.exec(path);
  if (!match) {
    googleError(res, 404, undefined, `The requested URL ${path} was not found on this server.`);
    return;
  }
  const bearer = req.headers.authorization?.startsWith('Bearer ')
    ? req.headers.authorization.slice(7)
    : undefined;
  if (bearer === undefined || !mintedTokens.has(bearer)) {
    googleError(res, 401);
    return;
  }
  let body: JsonBody;
  try {
    body = JSON.parse(raw) as JsonBody;
  } catch {
    googleError(res, 400, undefined, 'Invalid JSON payload received.');
    return;
  }
  const [, , , publisher, model, method] = match as unknown as string[];
  const modelId = decodeURIComponent(model as string);
  const scenario = method === 'countTokens' ? {} : next();
  if (scenario.body !== undefined) {
    sendJson(res, scenario.status ?? 200, scenario.body, {}, scenario.headers);
    return;
  }
  if (publisher === 'anthropic') {
    if (method !== 'rawPredict' && method !== 'streamRawPredict') {
      googleError(res, 400, undefined, `Unsupported method ${method} for anthropic models.`);
      return;
    }
    if ('model' in body || body.anthropic_version !== 'vertex-2023-10-16') {
      anthropicError(res, 400, undefined, {
        message:
          'model' in body ? 'model: Extra inputs are not permitted' : 'anthropic_version: Field required',
      });
      return;
    }
    if (scenario.status !== undefined && scenario.status >= 400) {
      anthropicError(res, scenario.status, scenario.headers);
      return;
    }
    await anthropicMessages(res, { ...body, model: modelId }, scenario);
    return;
  }
  if (scenario.status !== undefined && scenario.status >= 400) {
    googleError(res, scenario.status, scenario.headers);
    return;
  }
  switch (method) {
    case 'generateContent':
      await generate(res, modelId, body, false, scenario);
      return;
    case 'streamGenerateContent':
      if (new URLSearchParams(search).get('alt') !== 'sse') {
        googleError(res, 400, undefined, 'The mock streams only with alt=sse.');
        return;
      }
      await generate(res, modelId, body, true, scenario);
      return;
    case 'countTokens':
      if (isGone(res)) return;
      if ('generateContentRequest' in body) {
        googleError(
          res,
          400,
          undefined,
          'Invalid JSON payload received. Unknown name "generateContentRequest": Cannot find field.',
        );
        return;
      }
      sendJson(
        res,
        200,
        { totalTokens: geminiUsage(body, {}).promptTokenCount, totalBillableCharacters: raw.length },
        {},
      );
      return;
    default:
      googleError(res, 400, undefined, `Unsupported method ${method}.`);
  }
}
