import { type ApiKind, GatewayError } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import { type GatewayDependencies, handleModelCall, sendGatewayError } from '../pipeline.js';
import { answerModelList, modelCallOf } from './route-requests.js';

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
        await handleModelCall(
          dependencies,
          modelCallOf(request, reply, parsed.api, { model: parsed.model, stream: parsed.stream }),
        );
      },
    );
    app.get(
      `${prefix}/v1beta/models`,
      { config: { dialect: 'google' }, schema: { hide: true } },
      async (request, reply) => {
        await answerModelList(dependencies, request, reply, {
          dialect: 'google',
          contentType: 'application/json; charset=UTF-8',
          render: renderGeminiModelList,
        });
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
