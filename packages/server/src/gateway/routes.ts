import { type ApiKind, type Dialect, dialectOfApi, GatewayError } from '@gatehouse/core';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { keyFromRequest } from './client-key.js';
import { registerGeminiRoutes } from './gemini-routes.js';
import { modelsForPolicy, renderModelList } from './models.js';
import { type GatewayDependencies, handleModelCall, sendGatewayError, toGatewayError } from './pipeline.js';

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
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
    (_request, body, done) => {
      done(null, body);
    },
  );
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
          await handleModelCall(dependencies, {
            api: route.api,
            requestId: request.id,
            headers: request.headers,
            search: searchOf(request),
            body: request.body as Buffer | undefined,
            response: reply.raw,
            startedAt: request.startedAt,
            receivedAt: new Date(),
          });
        },
      );
    }
    app.get(
      `${prefix}/v1/models`,
      { config: { dialect: 'openai' }, schema: { hide: true } },
      async (request, reply) => {
        reply.hijack();
        const dialect: Dialect = request.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
        try {
          const query = new URLSearchParams(searchOf(request));
          const identity = await dependencies.authenticator.authenticate(
            keyFromRequest(request.headers, query),
          );
          const body = JSON.stringify(renderModelList(request.headers, modelsForPolicy(identity.policy)));
          reply.raw.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-gatehouse-request-id': request.id,
          });
          reply.raw.end(body);
        } catch (error) {
          sendGatewayError(reply.raw, dialect, toGatewayError(error), request.id);
        }
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

function searchOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index);
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
