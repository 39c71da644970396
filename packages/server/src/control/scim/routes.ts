import { jsonNestsDeeperThan } from '@gatehouse/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type SecretBox, secretsEqual } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { findLiveScimToken } from '../../store/scim.js';
import { type AuditActor, type AuditTrail, changeVerbOf, sentBody } from '../audit/trail.js';
import { discoveryRoutes } from './discovery.js';
import { ScimError, scimErrorBody } from './errors.js';
import { groupRoutes } from './groups.js';
import { SCIM_CONTENT_TYPE } from './resources.js';
import { type ScimContext, userRoutes } from './users.js';

/** Deeper than any SCIM resource or patch an identity provider sends (they nest four or five). */
const MAX_SCIM_DEPTH = 32;

export interface ScimRouteOptions {
  db: Database;
  box: SecretBox;
  defaultOrganizationId: string;
  /** `GATEHOUSE_SCIM_TOKEN`: a bearer for the default organisation, besides admin-created tokens. */
  environmentToken: string | undefined;
  /** Announces that keys were revoked, so every instance drops its cached copies. */
  onKeysChange(): void;
  /** Every provisioning change is recorded here, the SCIM token as its actor. */
  audit: AuditTrail;
  now(): Date;
}

/** Where the SCIM service is; identity providers are configured with `<public URL>/scim/v2`. */
const SCIM_PREFIX = '/scim/v2';
const SCIM_JSON = 'application/scim+json';

/** The organisation each authenticated SCIM request acts for, and the token it came with. */
const callers = new WeakMap<FastifyRequest, ScimCaller>();

interface ScimCaller {
  organizationId: string;
  /** The admin-created SCIM token's id, or `GATEHOUSE_SCIM_TOKEN`. */
  tokenId: string;
}

/** The environment's token has no row; the audit log names it by its setting. */
const ENVIRONMENT_TOKEN_ID = 'GATEHOUSE_SCIM_TOKEN';

/**
 * SCIM 2.0 provisioning (RFC 7643/7644): an identity provider creates, updates and deactivates
 * people and teams. Every request carries a bearer: an admin-created SCIM token (looked up by its
 * hash, so revoking it takes effect on the next request) or `GATEHOUSE_SCIM_TOKEN`.
 * @see https://www.rfc-editor.org/rfc/rfc7644
 */
export async function scimRoutes(app: FastifyInstance, options: ScimRouteOptions): Promise<void> {
  await app.register(
    async (scope) => {
      if (!scope.hasContentTypeParser(SCIM_JSON)) {
        // RFC 7644 §8.1: clients send application/scim+json; it is JSON.
        scope.addContentTypeParser(
          SCIM_JSON,
          { parseAs: 'string' },
          scope.getDefaultJsonParser('error', 'error'),
        );
      }
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        if (error instanceof ScimError) return sendError(reply, error);
        const status = error.statusCode ?? 500;
        if (status >= 500) {
          request.log.error({ err: error, requestId: request.id }, 'unhandled SCIM error');
          return sendError(reply, new ScimError(500, undefined, `Internal error (request ${request.id}).`));
        }
        // Fastify's own refusals: malformed JSON, an empty body, an unknown media type, too large.
        return sendError(
          reply,
          new ScimError(status, status === 400 ? 'invalidSyntax' : undefined, error.message),
        );
      });
      scope.setNotFoundHandler((request, reply) =>
        sendError(
          reply,
          new ScimError(404, undefined, `No SCIM endpoint ${request.method} ${request.url.split('?')[0]}`),
        ),
      );
      // onRequest: an unauthenticated caller is refused before its body is read.
      scope.addHook('onRequest', async (request, reply) => {
        reply.type(SCIM_CONTENT_TYPE);
        const caller = await authenticate(request, options);
        if (!caller) {
          reply.header('www-authenticate', 'Bearer realm="scim"');
          throw new ScimError(401, undefined, 'A valid SCIM bearer token is required.');
        }
        callers.set(request, caller);
      });
      // Every successful change is in the audit log before the identity provider hears back.
      scope.addHook('onSend', async (request, reply, payload) => {
        const caller = callers.get(request);
        const change = scimChange(request, reply.statusCode, payload);
        if (caller && change) {
          const actor: AuditActor = { kind: 'scim', id: caller.tokenId, label: 'SCIM' };
          await options.audit.record({ organizationId: caller.organizationId, actor, ...change, request });
        }
        return payload;
      });

      // Patch operations and resources are walked recursively; SCIM documents nest a few levels.
      scope.addHook('preValidation', async (request) => {
        if (request.body !== undefined && jsonNestsDeeperThan(request.body, MAX_SCIM_DEPTH)) {
          throw new ScimError(
            400,
            'invalidSyntax',
            `The request body nests more than ${MAX_SCIM_DEPTH} levels deep.`,
          );
        }
      });

      const context: ScimContext = {
        db: options.db,
        onKeysChange: options.onKeysChange,
        now: options.now,
        organizationOf(request) {
          const organizationId = callers.get(request)?.organizationId;
          // Unreachable past the hook; fail closed rather than act for a default organisation.
          if (!organizationId) throw new ScimError(401, undefined, 'A valid SCIM bearer token is required.');
          return organizationId;
        },
        baseOf: (request) => `${request.protocol}://${request.host}${SCIM_PREFIX}`,
      };
      discoveryRoutes(scope, context.baseOf);
      userRoutes(scope, context);
      groupRoutes(scope, context);
    },
    { prefix: SCIM_PREFIX },
  );
}

async function authenticate(
  request: FastifyRequest,
  options: ScimRouteOptions,
): Promise<ScimCaller | undefined> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const presented = match?.[1];
  if (!presented) return undefined;
  if (options.environmentToken && secretsEqual(presented, options.environmentToken)) {
    return { organizationId: options.defaultOrganizationId, tokenId: ENVIRONMENT_TOKEN_ID };
  }
  const token = await findLiveScimToken(options.db, options.box.hashToken(presented));
  return token && { organizationId: token.organizationId, tokenId: token.id };
}

/**
 * The audit event a successful SCIM write makes: `scim.user.create`, `scim.user.update`,
 * `scim.user.deactivate` (a write that leaves the person inactive, or a DELETE, which
 * deactivates), `scim.group.create|update|delete`. The targets are the person and the team.
 */
function scimChange(
  request: FastifyRequest,
  status: number,
  payload: unknown,
): { action: string; target: { type: string; id: string | null }; after: unknown } | undefined {
  const verb = changeVerbOf(request.method);
  if (!verb || status < 200 || status >= 300) return undefined;
  const resource = /^\/(Users|Groups)\b/.exec(
    (request.routeOptions.url ?? '').slice(SCIM_PREFIX.length),
  )?.[1];
  if (!resource) return undefined;
  let after = sentBody(payload) ?? null;
  // A PATCH may answer 204: then what it asked for is what changed.
  if (after === null && verb === 'update') after = { request: request.body ?? null };
  const id = (request.params as { id?: string }).id ?? (after as { id?: unknown } | null)?.id;
  if (resource === 'Groups') {
    return {
      action: `scim.group.${verb}`,
      target: { type: 'team', id: typeof id === 'string' ? id : null },
      after,
    };
  }
  const deactivated = verb === 'delete' || (after as { active?: unknown } | null)?.active === false;
  return {
    action: deactivated && verb !== 'create' ? 'scim.user.deactivate' : `scim.user.${verb}`,
    target: { type: 'user', id: typeof id === 'string' ? id : null },
    after: verb === 'delete' ? { active: false } : after,
  };
}

function sendError(reply: FastifyReply, error: ScimError) {
  return reply.code(error.status).type(SCIM_CONTENT_TYPE).send(scimErrorBody(error));
}
