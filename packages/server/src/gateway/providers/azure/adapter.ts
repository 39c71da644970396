import { GatewayError } from '@gatehouse/core';
import { z } from 'zod';
import { betasDroppedOutsideAnthropic } from '../anthropic-betas.js';
import { apiKeySecrets } from '../credential-fields.js';
import { isOpenAiModel } from '../openai/adapter.js';
import type { ProviderAdapter, ProviderTarget, UpstreamCall, UpstreamRequest } from '../types.js';
import { splitBaseUrl } from '../types.js';

/**
 * The GA data-plane version used when a credential names none.
 * @see https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference
 */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** What an Azure credential holds beside its resource endpoint (its base URL) and key. */
const azureSettings = z.object({
  apiVersion: z.string().min(1).max(40).optional().describe('the api-version query parameter'),
  deployments: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe('model name → deployment name'),
});

function deploymentsOf(target: ProviderTarget): Readonly<Record<string, string>> | undefined {
  const deployments = target.settings.deployments;
  return typeof deployments === 'object' && deployments !== null
    ? (deployments as Record<string, string>)
    : undefined;
}

/** The deployment that serves a model: the credential's mapping, else a deployment named after it. */
export function deploymentFor(target: ProviderTarget, model: string): string {
  return deploymentsOf(target)?.[model] ?? model;
}

/**
 * The resource endpoint's path prefix, tolerating a base URL given with Azure's own `/openai`
 * or `/openai/v1` suffix (the form the portal and the v1 docs show).
 */
function resourcePrefix(pathPrefix: string): string {
  return pathPrefix.replace(/\/openai(\/v1)?$/, '');
}

/** The Responses API on the v1 surface names the deployment as the body's `model`. */
function withModel(body: Buffer, model: string): Buffer {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (json.model === model) return body;
  json.model = model;
  return Buffer.from(JSON.stringify(json));
}

/**
 * Azure OpenAI: OpenAI's APIs on a customer's resource (`https://{resource}.openai.azure.com`),
 * authenticated with the `api-key` header. Chat completions and embeddings go to the
 * deployment-scoped paths with a dated `api-version`; the Responses API only exists on the v1
 * surface, which takes no `api-version` and names the deployment as `model`.
 * @see https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#chat-completions
 * @see https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle
 */
export const azureAdapter: ProviderAdapter = {
  type: 'azure',
  description: "Azure OpenAI: OpenAI's APIs on your resource (baseUrl: https://{resource}.openai.azure.com)",
  credential: { settings: azureSettings, secrets: apiKeySecrets, baseUrlRequired: true },
  nativeApis: ['openai-chat', 'openai-responses', 'openai-embeddings'],
  // The catalogue's Azure entry falls back to OpenAI's prices for the models it does not list.
  priceCatalogueId: 'azure',
  // The base URL is the resource endpoint, always set, so it says nothing about the models. With
  // a deployment map, only its keys; without one, OpenAI's models (each may have a deployment of
  // its name), never another vendor's model that the Azure OpenAI APIs cannot serve.
  servesModel: (target, model) => {
    const deployments = deploymentsOf(target);
    return deployments === undefined ? isOpenAiModel(model) : Object.hasOwn(deployments, model);
  },
  ownModels: (target) => Object.keys(deploymentsOf(target) ?? {}),
  translationDialect: () => 'openai-chat',
  requestWarnings: betasDroppedOutsideAnthropic,
  buildRequest(target: ProviderTarget, call: UpstreamCall): UpstreamRequest {
    if (target.baseUrl === undefined) {
      throw new GatewayError(
        'no_provider',
        `The Azure OpenAI credential '${target.name}' has no base URL; set it to the resource endpoint, e.g. https://myresource.openai.azure.com.`,
      );
    }
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl);
    const prefix = resourcePrefix(pathPrefix);
    const deployment = deploymentFor(target, call.model);
    const apiVersion =
      typeof target.settings.apiVersion === 'string' ? target.settings.apiVersion : DEFAULT_AZURE_API_VERSION;
    const deploymentPath = (operation: string) =>
      `${prefix}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?api-version=${encodeURIComponent(apiVersion)}`;
    let path: string;
    let body = call.body;
    switch (call.dialect) {
      case 'openai-chat':
        path = deploymentPath('chat/completions');
        break;
      case 'openai-embeddings':
        path = deploymentPath('embeddings');
        break;
      case 'openai-responses':
        // @see https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/responses
        path = `${prefix}/openai/v1/responses`;
        body = withModel(call.body, deployment);
        break;
      default:
        throw new Error(`azure adapter cannot speak ${call.dialect}`);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Metering reads the body, so ask for it uncompressed.
      'accept-encoding': 'identity',
    };
    if (target.apiKey) headers['api-key'] = target.apiKey;
    return { origin, path, method: 'POST', headers, body };
  },
  /**
   * The resource's model list: it checks the endpoint and the key without calling a deployment.
   * @see https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list
   */
  connectionProbe(target: ProviderTarget): UpstreamRequest {
    if (target.baseUrl === undefined) {
      throw new GatewayError('no_provider', `The Azure OpenAI credential '${target.name}' has no base URL.`);
    }
    const { origin, pathPrefix } = splitBaseUrl(target.baseUrl);
    const apiVersion =
      typeof target.settings.apiVersion === 'string' ? target.settings.apiVersion : DEFAULT_AZURE_API_VERSION;
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
    if (target.apiKey) headers['api-key'] = target.apiKey;
    const path = `${resourcePrefix(pathPrefix)}/openai/models?api-version=${encodeURIComponent(apiVersion)}`;
    return { origin, path, method: 'GET', headers, body: undefined };
  },
};
