import { type ApiKind, type Dialect, dialectOfApi, GatewayError } from '@gatehouse/core';
import type { FastifyError, FastifyInstance } from 'fastify';
import { renderModelList } from '../dispatch/models.js';
import { type GatewayDependencies, handleModelCall, sendGatewayError, toGatewayError } from '../pipeline.js';
import { dialectFromAnthropicVersion } from './client-dialect.js';
import { registerGeminiRoutes } from './gemini-routes.js';
import { acceptRawBodies, answerModelList, modelCallOf } from './route-requests.js';

/** Each model-call route, by the API it speaks. Served under `/api` and at the origin alike. */
const modelCallRoutes: { path: string; api: ApiKind }[] = [
  { path: '/v1/chat/completions', api: 'openai-chat' },
  { path: '/v1/responses', api: 'openai-responses' },
  { path: '/v1/embeddings', api: 'openai-embeddings' },
  { path: '/v1/messages', api: 'anthropic-messages' },
  { path: '/v1/messages/count_tokens', api: 'anthropic-count-tokens' },
];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The dialect a gateway route answers errors in. */
    dialect?: Dialect;
  }
}

export interface GatewayRouteOptions {
  dependencies: GatewayDependencies;
  maxBodyBytes: number;
}

/**
 * The data plane's HTTP surface. Bodies arrive as raw bytes whatever their content type, so a
 * request can be forwarded byte for byte and malformed JSON is answered in the caller's dialect.
 */
export async function gatewayRoutes(app: FastifyInstance, options: GatewayRouteOptions): Promise<void> {
  const { dependencies } = options;
  acceptRawBodies(app, options.maxBodyBytes);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const dialect = request.routeOptions.config.dialect ?? 'openai';
    reply.hijack();
    sendGatewayError(reply.raw, dialect, fastifyErrorToGatewayError(error, options.maxBodyBytes), request.id);
  });

  registerGeminiRoutes(app, dependencies);
  for (const prefix of ['/api', '']) {
    for (const route of modelCallRoutes) {
      app.post(
        `${prefix}${route.path}`,
        { config: { dialect: dialectOfApi[route.api] }, schema: { hide: true } },
        async (request, reply) => {
          reply.hijack();
          await handleModelCall(dependencies, modelCallOf(request, reply, route.api));
        },
      );
    }
    app.get(
      `${prefix}/v1/models`,
      { config: { dialect: 'openai' }, schema: { hide: true } },
      async (request, reply) => {
        const dialect = dialectFromAnthropicVersion(request.headers);
        await answerModelList(dependencies, request, reply, {
          dialect,
          contentType: 'application/json',
          render: (models) => renderModelList(dialect, models),
        });
      },
    );
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when the request arrived, for latency and time to first byte. */
    startedAt: number;
  }
}

function fastifyErrorToGatewayError(error: FastifyError, maxBodyBytes: number): GatewayError {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
    return new GatewayError(
      'body_too_large',
      `The request body is larger than the limit of ${maxBodyBytes} bytes.`,
    );
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new GatewayError('invalid_request', error.message);
  }
  return toGatewayError(error);
}
