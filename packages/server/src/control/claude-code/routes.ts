import { GatewayError } from '@gatehouse/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type Authenticator,
  acceptRawBodies,
  keyFromRequest,
  type ResolvedKey,
  sendGatewayError,
  toGatewayError,
} from '../../gateway/index.js';
import type { Database } from '../../store/database.js';
import { insertTelemetry, settingsChecksum, settingsFor } from '../../store/managed-settings.js';
import type { TelemetryQuota } from './telemetry-quota.js';

export interface ClaudeCodeRouteOptions {
  db: Database;
  authenticator: Authenticator;
  /** Largest telemetry batch accepted. */
  maxTelemetryBytes: number;
  /** Per-key and per-organisation allowance of telemetry bytes. */
  telemetryQuota: TelemetryQuota;
}

const TELEMETRY_SIGNALS = ['metrics', 'logs', 'traces'] as const;

/**
 * The endpoints Claude Code's own gateway sign-in uses beside the model API: the managed
 * settings it polls (ETag/304; 404 means "no policy") and the OTLP telemetry it posts. The
 * bearer is the person's key; errors use the Anthropic envelope, as the rest of its traffic.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
export async function claudeCodeRoutes(app: FastifyInstance, options: ClaudeCodeRouteOptions): Promise<void> {
  acceptRawBodies(app, options.maxTelemetryBytes);
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    const gatewayError =
      status === 413
        ? new GatewayError('body_too_large', 'The telemetry batch is too large.')
        : new GatewayError('invalid_request', (error as Error).message);
    return sendAnthropicError(reply, gatewayError, request.id);
  });

  const authenticate = async (request: FastifyRequest): Promise<ResolvedKey> =>
    options.authenticator.authenticate(keyFromRequest(request.headers, undefined));

  for (const prefix of ['', '/api']) {
    app.get(`${prefix}/managed/settings`, { schema: { hide: true } }, async (request, reply) => {
      try {
        const identity = await authenticate(request);
        const document = await settingsFor(options.db, identity.organizationId, identity.teamId);
        if (!document) {
          return sendAnthropicError(
            reply,
            new GatewayError('route_not_found', 'No managed settings for this organisation.'),
            request.id,
          );
        }
        const checksum = settingsChecksum(document.settings);
        const etag = `"${checksum}"`;
        reply.header('etag', etag).header('cache-control', 'private, no-cache');
        if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
        // Claude Code parses this envelope (uuid, checksum, settings), not a bare settings file.
        return reply.code(200).send({ uuid: checksum, checksum, settings: document.settings });
      } catch (error) {
        return sendAnthropicError(reply, toGatewayError(error), request.id);
      }
    });
    for (const signal of TELEMETRY_SIGNALS) {
      app.post(`${prefix}/v1/${signal}`, { schema: { hide: true } }, async (request, reply) => {
        try {
          const identity = await authenticate(request);
          const body = request.body as Buffer | undefined;
          await options.telemetryQuota.charge(identity, body?.length ?? 0);
          const contentType =
            String(request.headers['content-type'] ?? 'application/x-protobuf').split(';')[0] ?? '';
          const isJson = contentType === 'application/json';
          if (isJson && body) JSON.parse(body.toString('utf8')); // refuse what is not JSON
          await insertTelemetry(options.db, {
            organizationId: identity.organizationId,
            principalId: identity.principalId,
            keyId: identity.keyId,
            signal,
            contentType,
            body: body ? (isJson ? body.toString('utf8') : body.toString('base64')) : '',
          });
          // OTLP/HTTP: an empty success response, in the encoding the client sent.
          return isJson
            ? reply.code(200).send({})
            : reply.code(200).header('content-type', contentType).send(Buffer.alloc(0));
        } catch (error) {
          const gatewayError =
            error instanceof SyntaxError
              ? new GatewayError('malformed_json', 'The telemetry body is not valid JSON.')
              : toGatewayError(error);
          return sendAnthropicError(reply, gatewayError, request.id);
        }
      });
    }
  }
}

/** RFC 9110 If-None-Match: a list of entity tags (weak ones compare equal too), or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/** Errors as the model routes send them (same headers, same envelope), in Anthropic's shape. */
function sendAnthropicError(reply: FastifyReply, error: GatewayError, requestId: string): void {
  reply.hijack();
  sendGatewayError(reply.raw, 'anthropic', error, requestId);
}
