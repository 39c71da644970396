import { type ApiKind, GatewayError } from '@gatehouse/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keyFromRequest } from './client-key.js';
import { modelsForPolicy } from './models.js';
import { type GatewayDependencies, handleModelCall, sendGatewayError, toGatewayError } from './pipeline.js';

/** What each Gemini method after `models/{model}:` is served as. */
const geminiActions: Record<string, { api: ApiKind; stream: boolean }> = {
  generateContent: { api: 'gemini-generate', stream: false },
  streamGenerateContent: { api: 'gemini-generate', stream: true },
  countTokens: { api: 'gemini-count-tokens', stream: false },
};

/** The methods the list advertises for every model. @see https://ai.google.dev/api/models#Model */
const SUPPORTED_GENERATION_METHODS = Object.keys(geminiActions);

/**
 * Splits `{model}:{action}` (the path segment after `models/`). The action follows the last colon;
 * a model id may hold dots and dashes (`gemini-2.5-flash`).
 */
export function parseModelAction(
  modelAction: string,
): { model: string; api: ApiKind; stream: boolean } | undefined {
  const colon = modelAction.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const method = modelAction.slice(colon + 1);
  const action = Object.hasOwn(geminiActions, method) ? geminiActions[method] : undefined;
  return action ? { model: modelAction.slice(0, colon), ...action } : undefined;
}

/**
 * The Gemini API's surface for Gemini clients (Gemini CLI, `@google/genai`): generate, stream
 * (SSE with `?alt=sse`, Google's JSON array without), count tokens and the model list, under
 * `/api` and at the origin. Register it inside the gateway's plugin, which owns the raw-body
 * parser and the error handler.
 * @see https://ai.google.dev/api/generate-content
 */
export function registerGeminiRoutes(app: FastifyInstance, dependencies: GatewayDependencies): void {
  for (const prefix of ['/api', '']) {
    app.post<{ Params: { modelAction: string } }>(
      `${prefix}/v1beta/models/:modelAction`,
      { config: { dialect: 'google' }, schema: { hide: true } },
      async (request, reply) => {
        reply.hijack();
        const parsed = parseModelAction(request.params.modelAction);
        if (!parsed) {
          sendGatewayError(
            reply.raw,
            'google',
            new GatewayError(
              'route_not_found',
              `Unknown method in '${request.params.modelAction}'; expected {model}:generateContent, :streamGenerateContent or :countTokens.`,
            ),
            request.id,
          );
          return;
        }
        await handleModelCall(dependencies, {
          api: parsed.api,
          requestId: request.id,
          headers: request.headers,
          search: searchOf(request),
          body: request.body as Buffer | undefined,
          fromPath: { model: parsed.model, stream: parsed.stream },
          response: reply.raw,
          startedAt: request.startedAt,
          receivedAt: new Date(),
        });
      },
    );
    app.get(
      `${prefix}/v1beta/models`,
      { config: { dialect: 'google' }, schema: { hide: true } },
      async (request, reply) => {
        reply.hijack();
        try {
          const identity = await dependencies.authenticator.authenticate(
            keyFromRequest(request.headers, new URLSearchParams(searchOf(request))),
          );
          const body = JSON.stringify(renderGeminiModelList(modelsForPolicy(identity.policy)));
          reply.raw.writeHead(200, {
            'content-type': 'application/json; charset=UTF-8',
            'content-length': Buffer.byteLength(body),
            'x-gatehouse-request-id': request.id,
          });
          reply.raw.end(body);
        } catch (error) {
          sendGatewayError(reply.raw, 'google', toGatewayError(error), request.id);
        }
      },
    );
  }
}

/**
 * The models a key reaches, in the shape of the Gemini API's `models.list`.
 * @see https://ai.google.dev/api/models#method:-models.list
 */
export function renderGeminiModelList(models: { id: string; ownedBy: string }[]): unknown {
  return {
    models: models.map((model) => ({
      name: `models/${model.id}`,
      displayName: model.id,
      supportedGenerationMethods: SUPPORTED_GENERATION_METHODS,
    })),
  };
}

function searchOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index);
}
