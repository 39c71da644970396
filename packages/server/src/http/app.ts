import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormBody from '@fastify/formbody';
import fastifySwagger from '@fastify/swagger';
import type { ErrorCode } from '@gatehouse/core';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { noRoute } from '../control/admin/replies.js';
import { type AdminRouteOptions, adminRoutes } from '../control/admin/routes.js';
import { type ClaudeCodeRouteOptions, claudeCodeRoutes } from '../control/claude-code/routes.js';
import { type CliAuthRouteOptions, cliAuthRoutes } from '../control/cli-auth/routes.js';
import { type SelfServiceOptions, selfServiceRoutes } from '../control/me/routes.js';
import { type ScimRouteOptions, scimRoutes } from '../control/scim/routes.js';
import { type SsoRouteOptions, ssoRoutes } from '../control/sso/routes.js';
import { type GatewayRouteOptions, gatewayRoutes } from '../gateway/index.js';
import { codeForStatus, errorShapeOf, pathOfRawRequest, renderEdgeError } from './edge-errors.js';
import { isAppNavigation, registerWebApp, type WebApp } from './web-app.js';

export interface AppParts {
  config: Pick<
    Config,
    | 'maxBodyBytes'
    | 'logLevel'
    | 'publicUrl'
    | 'clientHeadersTimeoutMs'
    | 'clientRequestTimeoutMs'
    | 'clientIdleTimeoutMs'
  >;
  admin: AdminRouteOptions;
  me: SelfServiceOptions;
  gateway: GatewayRouteOptions;
  claudeCode: ClaudeCodeRouteOptions;
  sso: SsoRouteOptions;
  cliAuth: CliAuthRouteOptions;
  scim: ScimRouteOptions;
  /** The public keys identity tokens are signed with, served at /.well-known/jwks.json. */
  jwks(): unknown;
  /** Answers /readyz: true once storage answers. */
  isReady(): Promise<boolean>;
  /** The built web app (`packages/web/dist`), served at `/`; undefined: no UI. */
  webRoot?: string;
  logger?: boolean;
}

/**
 * The HTTP server: health checks, the admin API with its OpenAPI document, and the gateway
 * routes. Every response carries `x-gatehouse-request-id`.
 */
export async function buildApp(parts: AppParts): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      parts.logger === false
        ? false
        : {
            level: parts.config.logLevel,
            // Belt and braces: nothing logs headers today, but if anything ever does, no credential leaks.
            redact: [
              'req.headers.authorization',
              'req.headers["x-api-key"]',
              'req.headers["x-goog-api-key"]',
              'req.headers["api-key"]',
            ],
            hooks: {
              // The start banner says where the server listens; Fastify's own JSON line for it
              // would only land in the middle of that banner.
              logMethod(inputArgs, method) {
                const [first] = inputArgs;
                if (typeof first === 'string' && first.startsWith('Server listening at ')) return;
                method.apply(this, inputArgs);
              },
            },
          },
    // Per-request log lines cost time on the hot path and say nothing the usage ledger doesn't.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: parts.config.maxBodyBytes,
    genReqId: () => `req_${randomUUID().replaceAll('-', '')}`,
    // Every way a client can hold a connection is bounded: sending its headers, sending its body
    // (Node's requestTimeout ends when the request is received, so streamed answers are not cut),
    // and idling between requests. Node checks these only every connectionsCheckingInterval.
    http: {
      headersTimeout: parts.config.clientHeadersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, parts.config.clientHeadersTimeoutMs),
    },
    requestTimeout: parts.config.clientRequestTimeoutMs,
    keepAliveTimeout: parts.config.clientIdleTimeoutMs,
    return503OnClosing: true,
    // A URL that does not decode never reaches a route: answer it in its caller's shape.
    frameworkErrors: (error, request, reply) => {
      const path = pathOf(request.url);
      const answer = renderEdgeError(
        errorShapeOf(path, request.headers),
        'invalid_request',
        error.message,
        request.id,
      );
      // Fastify types this hook generically over every server kind; this server is plain HTTP/1.1.
      (reply as FastifyReply).code(400).send(answer.body);
    },
    // Requests Node cannot parse at all (oversized headers, broken framing, a header timeout).
    clientErrorHandler: answerUnparsableRequest,
  });
  acceptEmptyJsonBodies(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = performance.now();
    reply.header('x-gatehouse-request-id', request.id);
  });

  app.setErrorHandler((error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send({
        error: {
          code: 'invalid_request',
          message: error.validation
            .map((issue) => `${issue.instancePath || 'body'} ${issue.message}`)
            .join('; '),
        },
      });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    }
    const path = pathOf(request.url);
    // An unknown path whose body could not even be parsed is still, first of all, unknown.
    if (request.is404) {
      if (webApp && isAppNavigation(request.method, path, request.headers)) return webApp.sendPage(reply);
      return answerUnknownRoute(reply, request.method, path, request.headers, request.id);
    }
    const message = status >= 500 ? `Internal error (request ${request.id}).` : (error as Error).message;
    const answer = renderEdgeError(
      errorShapeOf(path, request.headers),
      codeForStatus(status),
      message,
      request.id,
    );
    return reply.code(Math.min(status, 500)).send(answer.body);
  });
  // The web app's own routes are its page, loaded by any browser navigation no route answers.
  let webApp: WebApp | undefined;
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    if (webApp && isAppNavigation(request.method, path, request.headers)) return webApp.sendPage(reply);
    return answerUnknownRoute(reply, request.method, path, request.headers, request.id);
  });
  if (parts.webRoot) webApp = await registerWebApp(app, parts.webRoot);

  await app.register(fastifySwagger, {
    openapi: {
      // 3.1: the schemas zod emits are JSON Schema 2020-12 (nullable as a type list), which 3.0 lacks.
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse admin API',
        version: '0.1.0',
        description: 'Providers, routing policies, projects, virtual keys and usage for one organisation.',
      },
      servers: [{ url: parts.config.publicUrl }],
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer' },
          personalKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'The key `gatehouse login` gave the CLI',
          },
          session: { type: 'apiKey', in: 'cookie', name: 'gatehouse_session' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) =>
    (await parts.isReady()) ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }),
  );
  app.get('/.well-known/jwks.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return parts.jwks();
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Sign-in pages and OAuth endpoints read cookies and HTML-form bodies; the APIs stay JSON.
  await app.register(fastifyCookie);
  await app.register(fastifyFormBody, { bodyLimit: 1024 * 1024 });

  await app.register(adminRoutes, { ...parts.admin, prefix: '/api/admin' });
  await app.register(selfServiceRoutes, { ...parts.me, prefix: '/api/me' });
  await app.register(ssoRoutes, parts.sso);
  await app.register(cliAuthRoutes, parts.cliAuth);
  await app.register(scimRoutes, parts.scim);
  await app.register(gatewayRoutes, parts.gateway);
  await app.register(claudeCodeRoutes, parts.claudeCode);
  return app;
}

/**
 * `content-type: application/json` with no body at all is what many HTTP clients send on DELETE
 * and on POSTs that take no input (curl -H with -X DELETE, fetch wrappers); Fastify refuses it
 * with a 400. Such a request carries no body, so it is read as none; a route that needs one still
 * says so through its schema. Any non-empty body goes through Fastify's own safe JSON parser.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? '';
}

function answerUnknownRoute(
  reply: FastifyReply,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  requestId: string,
) {
  const message = `No route for ${method} ${path}`;
  const shape = errorShapeOf(path, headers);
  if (shape === 'admin') return reply.code(404).send(noRoute(method, path));
  return reply.code(404).send(renderEdgeError(shape, 'route_not_found', message, requestId).body);
}

/**
 * Node's own answer to a request it could not parse is a bare status line; this one says what
 * went wrong in the shape the path's callers parse, then closes the connection (its framing is
 * unknown, so it cannot be reused).
 */
function answerUnparsableRequest(failure: Error, socket: Socket): void {
  // Node's clientError carries its parser's code and the bytes it had read (a Buffer).
  const error = failure as Error & { code?: string; rawPacket?: Buffer };
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request was not received in time.']
        : [400, 'invalid_request', 'The request could not be parsed as HTTP.'];
  const requestId = `req_${randomUUID().replaceAll('-', '')}`;
  const path = pathOfRawRequest(error.rawPacket);
  const answer = renderEdgeError(errorShapeOf(path), code as ErrorCode, message, requestId);
  const body = JSON.stringify(answer.body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-gatehouse-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}
