/**
 * What every gateway route does with a Fastify request, kept once so the OpenAI/Anthropic routes
 * and the Gemini routes (and Claude Code's) cannot drift apart: raw bodies, the call the
 * pipeline gets, and the model list.
 */
import type { ApiKind, Dialect } from '@gatehouse/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyFromRequest } from '../auth/client-key.js';
import { modelsForPolicy } from '../dispatch/models.js';
import { type GatewayCall, type GatewayDependencies, sendGatewayError, toGatewayError } from '../pipeline.js';

/**
 * Every body arrives as raw bytes whatever its content type (up to `bodyLimit`), so it can be
 * forwarded or stored byte for byte and malformed JSON is answered in the caller's dialect.
 */
export function acceptRawBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, body);
  });
}

/** The URL's query string including `?`, or '' (Gemini clients may send the key as `?key=`). */
function searchOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index);
}

/** The pipeline's view of a hijacked request. */
export function modelCallOf(
  request: FastifyRequest,
  reply: FastifyReply,
  api: ApiKind,
  fromPath?: GatewayCall['fromPath'],
): GatewayCall {
  return {
    api,
    requestId: request.id,
    headers: request.headers,
    search: searchOf(request),
    body: Buffer.isBuffer(request.body) ? request.body : undefined,
    fromPath,
    response: reply.raw,
    startedAt: request.startedAt,
    receivedAt: new Date(),
  };
}

/** Answers a model list: the models the caller's key reaches, rendered in its SDK's shape. */
export async function answerModelList(
  dependencies: GatewayDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  list: { dialect: Dialect; contentType: string; render(models: { id: string; ownedBy: string }[]): unknown },
): Promise<void> {
  reply.hijack();
  try {
    const identity = await dependencies.authenticator.authenticate(
      keyFromRequest(request.headers, new URLSearchParams(searchOf(request))),
    );
    const body = JSON.stringify(list.render(modelsForPolicy(identity.policy)));
    reply.raw.writeHead(200, {
      'content-type': list.contentType,
      'content-length': Buffer.byteLength(body),
      'x-gatehouse-request-id': request.id,
    });
    reply.raw.end(body);
  } catch (error) {
    sendGatewayError(reply.raw, list.dialect, toGatewayError(error), request.id);
  }
}
