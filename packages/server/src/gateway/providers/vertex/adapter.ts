import type { WireDialect } from '@gatehouse/core';
import { z } from 'zod';
import { betasDroppedOutsideAnthropic, droppedBetaWarnings, requestedBetas } from '../anthropic-betas.js';
import type {
  ProviderAdapter,
  ProviderDialect,
  ProviderTarget,
  UpstreamCall,
  UpstreamRequest,
  UpstreamSender,
} from '../types.js';
import { splitBaseUrl } from '../types.js';
import { accessTokenFor } from './access-token.js';
import { parseServiceAccountKey } from './service-account.js';

/** A Vertex credential: the project and location calls go to, and the key tokens are minted with. */
const vertexSettings = z.object({
  projectId: z.string().min(1).max(100).describe('Google Cloud project id'),
  location: z.string().min(1).max(40).describe('region, e.g. us-east5 or global'),
});
const vertexSecrets = z.object({
  serviceAccountJson: z.string().min(2).max(16_384).describe('the service account key file, as JSON text'),
});

/**
 * Vertex AI's endpoints: regional, or one global host for the `global` location.
 * @see https://cloud.google.com/vertex-ai/docs/reference/rest#service-endpoint
 */
const defaultOrigin = (location: string) =>
  location === 'global'
    ? 'https://aiplatform.googleapis.com'
    : `https://${location}-aiplatform.googleapis.com`;

/**
 * The Messages API version Claude on Vertex takes in the body (there is no header).
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude
 */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** A Gemini model every Vertex location serves, counted against by the connection probe. */
const PROBE_MODEL = 'gemini-2.5-flash';

function isClaude(model: string): boolean {
  return model.startsWith('claude');
}

function isGemini(model: string): boolean {
  return model.startsWith('gemini');
}

function requiredSetting(target: ProviderTarget, name: 'projectId' | 'location'): string {
  const value = target.settings[name];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`Vertex credential '${target.name}' has no ${name}.`);
  }
  return value;
}

/**
 * A Messages body the way rawPredict takes it: the model is in the URL and the version in the
 * body; `stream` stays (it picks SSE on `streamRawPredict`).
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude#anthropic-claude-request-body
 */
export function rawPredictBody(body: Buffer): Buffer {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  delete json.model;
  json.anthropic_version = VERTEX_ANTHROPIC_VERSION;
  return Buffer.from(JSON.stringify(json));
}

/**
 * A countTokens body for Vertex: the Gemini API also takes `{generateContentRequest: {model, …}}`,
 * which Vertex does not, so its fields are lifted up (the model is in the URL).
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/count-tokens
 */
export function countTokensBody(body: Buffer): Buffer {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const inner = json.generateContentRequest;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return body;
  const { model: _model, ...fields } = inner as Record<string, unknown>;
  const { generateContentRequest: _request, ...rest } = json;
  return Buffer.from(JSON.stringify({ ...rest, ...fields }));
}

/** The method after `models/{model}:` and the query, for a Gemini call. */
function geminiMethod(call: UpstreamCall): string {
  if (call.dialect === 'gemini-count-tokens') return 'countTokens';
  if (!call.stream) return 'generateContent';
  // Always SSE: it is what the gateway's stream parsers read; a Gemini client that asked for
  // the JSON-array form gets its answer re-rendered into that form.
  return 'streamGenerateContent?alt=sse';
}

/**
 * Anthropic betas Claude on Vertex accepts in the header.
 * TODO: keep in step with Google's Claude-on-Vertex feature list.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude
 */
const VERTEX_ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'context-1m-2025-08-07',
  'fine-grained-tool-streaming-2025-05-14',
  'context-management-2025-06-27',
]);

/**
 * Google Vertex AI: Gemini models through their Gemini API paths (spoken natively: the body is the
 * Gemini API's), Claude models through Anthropic's Messages format on rawPredict. OAuth bearer
 * tokens minted from the credential's service account key.
 */
export const vertexAdapter: ProviderAdapter = {
  type: 'vertex',
  description: 'Google Vertex AI: Gemini natively, Claude through rawPredict',
  credential: {
    settings: vertexSettings,
    secrets: vertexSecrets,
    problem: ({ secret }) =>
      secret.serviceAccountJson !== undefined &&
      typeof parseServiceAccountKey(secret.serviceAccountJson) === 'string'
        ? 'serviceAccountJson must be a service account key file (JSON with client_email and private_key).'
        : undefined,
    otherUrls: ({ secret }) => {
      const key = parseServiceAccountKey(secret.serviceAccountJson);
      return typeof key === 'string' || key.token_uri === undefined
        ? []
        : [{ field: 'serviceAccountJson.token_uri', url: key.token_uri }];
    },
  },
  nativeApis: ['gemini-generate', 'gemini-count-tokens'],
  // Claude on Vertex speaks Anthropic's dialect, so a Gemini client asking for it is translated.
  isNativeFor: (_api, model) => !isClaude(model),
  // The catalogue prices Claude under `google` too (same prices as Anthropic's own).
  priceCatalogueId: 'google',
  // A base URL here is still Vertex AI's own API (Private Service Connect, a proxy): the
  // publisher paths name the model, so the vendor rule holds with or without one.
  servesModel: (_target, model) => isClaude(model) || isGemini(model),
  translationDialect: (model): WireDialect | undefined =>
    isClaude(model) ? 'anthropic-messages' : isGemini(model) ? 'gemini' : undefined,
  requestWarnings: betasDroppedOutsideAnthropic,
  async buildRequest(
    target: ProviderTarget,
    call: UpstreamCall,
    upstream: UpstreamSender,
  ): Promise<UpstreamRequest> {
    const projectId = requiredSetting(target, 'projectId');
    const location = requiredSetting(target, 'location');
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? defaultOrigin(location));
    const base = `${pathPrefix}/v1/projects/${encodeURIComponent(projectId)}/locations/${encodeURIComponent(location)}/publishers`;
    const model = encodeURIComponent(call.model);
    let path: string;
    let body: Buffer;
    switch (call.dialect as ProviderDialect) {
      case 'anthropic-messages':
        // @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/stream-response
        path = `${base}/anthropic/models/${model}:${call.stream ? 'streamRawPredict' : 'rawPredict'}`;
        body = rawPredictBody(call.body);
        break;
      case 'gemini':
      case 'gemini-generate':
        // @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference
        path = `${base}/google/models/${model}:${geminiMethod(call)}`;
        body = call.body;
        break;
      case 'gemini-count-tokens':
        path = `${base}/google/models/${model}:${geminiMethod(call)}`;
        body = countTokensBody(call.body);
        break;
      default:
        throw new Error(`vertex adapter cannot speak ${call.dialect}`);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
      authorization: `Bearer ${await accessTokenFor(target, upstream)}`,
    };
    // Vertex reads Anthropic betas from the header, as Anthropic's API does, but refuses the
    // Anthropic-API-only ones Claude Code sends (OAuth, Claude Code's own): those are left out.
    const betas = call.dialect === 'anthropic-messages' ? requestedBetas(call.headers['anthropic-beta']) : [];
    const forwarded = betas.filter((beta) => VERTEX_ANTHROPIC_BETAS.has(beta));
    if (forwarded.length > 0) headers['anthropic-beta'] = forwarded.join(',');
    const droppedBetas = betas.filter((beta) => !VERTEX_ANTHROPIC_BETAS.has(beta));
    return { origin, path, method: 'POST', headers, body, warnings: droppedBetaWarnings(droppedBetas) };
  },
  /**
   * Counting tokens is free and proves all of it: the key mints a token, the project and location
   * exist, and the service account may call models there. Vertex has no cheaper model call.
   * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/count-tokens
   */
  async connectionProbe(target: ProviderTarget, upstream: UpstreamSender): Promise<UpstreamRequest> {
    return await vertexAdapter.buildRequest(
      target,
      {
        api: 'gemini-count-tokens',
        dialect: 'gemini-count-tokens',
        model: PROBE_MODEL,
        stream: false,
        search: '',
        headers: {},
        body: Buffer.from(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'ping' }] }] })),
      },
      upstream,
    );
  },
};
