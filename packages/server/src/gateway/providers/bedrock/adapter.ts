import type { WireDialect } from '@gatehouse/core';
import { z } from 'zod';
import { betasDroppedOutsideAnthropic, droppedBetaWarnings, requestedBetas } from '../anthropic-betas.js';
import type {
  ProviderAdapter,
  ProviderDialect,
  ProviderTarget,
  UpstreamCall,
  UpstreamRequest,
} from '../types.js';
import { splitBaseUrl } from '../types.js';
import { createEventStreamDecoder } from './event-stream.js';
import { signedHeaders } from './signing.js';

/** A Bedrock credential: an AWS region and the access keys requests are signed with. */
const bedrockSettings = z.object({
  region: z.string().min(1).max(40).describe('AWS region, e.g. us-east-1'),
});
const bedrockSecrets = z.object({
  accessKeyId: z.string().min(1).max(256).describe('AWS access key id'),
  secretAccessKey: z.string().min(1).max(256).describe('AWS secret access key'),
  sessionToken: z.string().min(1).max(4096).optional().describe('AWS session token, for temporary keys'),
});

/**
 * Bedrock Runtime's regional endpoint.
 * @see https://docs.aws.amazon.com/general/latest/gr/bedrock.html#br-rt
 */
const defaultOrigin = (region: string) => `https://bedrock-runtime.${region}.amazonaws.com`;

/**
 * Bedrock's control-plane endpoint, where the model list lives (the runtime has no list).
 * @see https://docs.aws.amazon.com/general/latest/gr/bedrock.html#br-cp
 */
const controlPlaneOrigin = (region: string) => `https://bedrock.${region}.amazonaws.com`;

/**
 * The Messages API version Bedrock's Claude models take in the body (there is no header).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
 */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/**
 * Anthropic betas Bedrock accepts in the body's `anthropic_beta`; Bedrock rejects the whole
 * request for one it does not know, so the others are left out.
 * TODO: keep in step with the AWS page above as Bedrock adds betas (prompt caching and
 * structured outputs need none; files, MCP connector, code execution and web fetch are not
 * offered on Bedrock at the time of writing).
 */
export const BEDROCK_ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'computer-use-2025-11-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
]);

/**
 * Bedrock model ids: `provider.model`, optionally behind a cross-region inference profile prefix
 * (`us.`, `eu.`, `apac.`, `global.` …), or a model / inference-profile ARN.
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
 */
const BEDROCK_MODEL_ID =
  /^(?:arn:aws[a-z-]*:bedrock:|(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer|twelvelabs|stability|luma)\.)/;

/**
 * The `{modelId}` path parameter the way the AWS SDKs encode it: every reserved character,
 * including `:` in versioned ids and `/` in ARNs.
 */
function encodeModelId(modelId: string): string {
  return encodeURIComponent(modelId).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function isAnthropicModel(model: string): boolean {
  return model.includes('anthropic.claude');
}

function regionOf(target: ProviderTarget): string {
  const region = target.settings.region;
  if (typeof region !== 'string' || region === '') {
    throw new Error(`Bedrock credential '${target.name}' has no region.`);
  }
  return region;
}

/**
 * An Anthropic Messages body the way InvokeModel takes it: the model is in the URL and streaming
 * is the endpoint, so neither is in the body; the version is in the body, and so are the betas
 * Bedrock knows (never the header, which Bedrock does not read).
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
 */
export function invokeModelBody(
  body: Buffer,
  betaHeader: string | string[] | undefined,
): { body: Buffer; droppedBetas: string[] } {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  delete json.model;
  delete json.stream;
  json.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  const existing = Array.isArray(json.anthropic_beta) ? (json.anthropic_beta as unknown[]) : [];
  const wanted = [
    ...new Set([
      ...existing.filter((beta): beta is string => typeof beta === 'string'),
      ...requestedBetas(betaHeader),
    ]),
  ];
  const betas = wanted.filter((beta) => BEDROCK_ANTHROPIC_BETAS.has(beta));
  if (betas.length > 0) json.anthropic_beta = betas;
  else delete json.anthropic_beta;
  return {
    body: Buffer.from(JSON.stringify(json)),
    droppedBetas: wanted.filter((beta) => !BEDROCK_ANTHROPIC_BETAS.has(beta)),
  };
}

const pathSuffix: Partial<Record<ProviderDialect, { plain: string; streamed: string }>> = {
  /** @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html */
  'anthropic-messages': { plain: 'invoke', streamed: 'invoke-with-response-stream' },
  /** @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html */
  'bedrock-converse': { plain: 'converse', streamed: 'converse-stream' },
};

/**
 * AWS Bedrock Runtime: Claude through InvokeModel in Anthropic's own Messages format, every other
 * model through Converse; SigV4-signed; streams in AWS event-stream framing. No client API is
 * spoken natively (even Claude's body and URL differ), so every call is rendered for Bedrock.
 */
export const bedrockAdapter: ProviderAdapter = {
  type: 'bedrock',
  description: 'AWS Bedrock Runtime: Claude through InvokeModel, other models through Converse',
  credential: { settings: bedrockSettings, secrets: bedrockSecrets },
  nativeApis: [],
  priceCatalogueId: 'aws',
  // A base URL here is still Bedrock's own API (a VPC endpoint, a signing proxy): model ids are
  // part of its paths, so the vendor rule holds with or without one.
  servesModel: (_target, model) => BEDROCK_MODEL_ID.test(model),
  translationDialect: (model): WireDialect =>
    isAnthropicModel(model) ? 'anthropic-messages' : 'bedrock-converse',
  // Betas Bedrock cannot take on InvokeModel are reported by buildRequest; Converse takes none.
  requestWarnings: betasDroppedOutsideAnthropic,
  async buildRequest(target: ProviderTarget, call: UpstreamCall): Promise<UpstreamRequest> {
    const suffix = pathSuffix[call.dialect];
    if (!suffix) throw new Error(`bedrock adapter cannot speak ${call.dialect}`);
    const region = regionOf(target);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? defaultOrigin(region));
    const path = `${pathPrefix}/model/${encodeModelId(call.model)}/${call.stream ? suffix.streamed : suffix.plain}`;
    const invoke =
      call.dialect === 'anthropic-messages'
        ? invokeModelBody(call.body, call.headers['anthropic-beta'])
        : undefined;
    const body = invoke?.body ?? call.body;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
    };
    // Streams answer in application/vnd.amazon.eventstream whatever is asked; the SDKs send no accept.
    if (!call.stream) headers.accept = 'application/json';
    return {
      origin,
      path,
      method: 'POST',
      headers: await signedHeaders(target, region, { origin, path, headers, body }),
      body,
      warnings: droppedBetaWarnings(invoke?.droppedBetas ?? []),
    };
  },
  /**
   * ListFoundationModels: free, signed like a model call, so it proves the keys and the region.
   * With a base URL (a signing proxy) it is asked there, on the same path.
   * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html
   */
  async connectionProbe(target: ProviderTarget): Promise<UpstreamRequest> {
    const region = regionOf(target);
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl ?? controlPlaneOrigin(region));
    const path = `${pathPrefix}/foundation-models`;
    const headers = { accept: 'application/json', 'accept-encoding': 'identity' };
    return {
      origin,
      path,
      method: 'GET',
      headers: await signedHeaders(target, region, { method: 'GET', origin, path, headers, body: undefined }),
      body: undefined,
    };
  },
  /** @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html */
  streamContentType: 'application/vnd.amazon.eventstream',
  createStreamDecoder: (dialect?: ProviderDialect) =>
    createEventStreamDecoder(dialect === 'anthropic-messages' ? 'anthropic' : 'bedrock'),
};
