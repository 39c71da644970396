import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../../store/database.js';
import {
  createRateLimit,
  DuplicateRateLimitError,
  deleteRateLimit,
  getRateLimit,
  listRateLimits,
  type RateLimitRow,
  updateRateLimit,
} from '../../store/rate-limits.js';
import { adminError, deletedResponse, errorResponses as errors, security } from './replies.js';
import { createRateLimitBody, idParams, listOf, rateLimitSchema } from './schemas.js';
import { scopeExists, unknownScopeMessage } from './scope-references.js';
import { updateRateLimitBody } from './update-schemas.js';

export interface RateLimitRouteOptions {
  db: Database;
  /** Rate limits are cached by every gateway: a change must reach them. */
  onRateLimitChange(): void;
}

const notFound = { error: { code: 'not_found', message: 'rate limit not found' } };

/** `/api/admin/rate-limits`: requests and tokens per minute per key, user, project or provider. */
export function rateLimitRoutes(parent: FastifyInstance, options: RateLimitRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.post(
    '/rate-limits',
    {
      schema: {
        tags: ['rate-limits'],
        summary: 'Set a rate limit (one per scope: PATCH it to change it)',
        security,
        body: createRateLimitBody,
        response: { 201: rateLimitSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { scope, scopeId } = request.body;
      if (!(await scopeExists(db, request.admin.organizationId, scope, scopeId))) {
        return reply.code(400).send(adminError('unknown_scope', unknownScopeMessage(scope, scopeId)));
      }
      try {
        const row = await createRateLimit(db, request.admin.organizationId, {
          scope: request.body.scope,
          scopeId: request.body.scopeId,
          requestsPerMinute: request.body.requestsPerMinute ?? null,
          tokensPerMinute: request.body.tokensPerMinute ?? null,
        });
        options.onRateLimitChange();
        return reply.code(201).send(rateLimitView(row));
      } catch (error) {
        if (error instanceof DuplicateRateLimitError) {
          return reply.code(409).send({ error: { code: 'already_exists', message: error.message } });
        }
        throw error;
      }
    },
  );
  app.get(
    '/rate-limits',
    { schema: { tags: ['rate-limits'], security, response: { 200: listOf(rateLimitSchema), ...errors } } },
    async (request) => ({
      data: (await listRateLimits(db, request.admin.organizationId)).map(rateLimitView),
    }),
  );
  app.get(
    '/rate-limits/:id',
    {
      schema: {
        tags: ['rate-limits'],
        security,
        params: idParams,
        response: { 200: rateLimitSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await getRateLimit(db, request.admin.organizationId, request.params.id);
      return row ? rateLimitView(row) : reply.code(404).send(notFound);
    },
  );
  app.patch(
    '/rate-limits/:id',
    {
      schema: {
        tags: ['rate-limits'],
        summary: 'Change the requests or tokens per minute of a rate limit',
        security,
        params: idParams,
        body: updateRateLimitBody,
        response: { 200: rateLimitSchema, ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const existing = await getRateLimit(db, organizationId, request.params.id);
      if (!existing) return reply.code(404).send(notFound);
      const { requestsPerMinute = existing.requestsPerMinute, tokensPerMinute = existing.tokensPerMinute } =
        request.body;
      if (requestsPerMinute === null && tokensPerMinute === null) {
        return reply
          .code(400)
          .send(
            adminError(
              'invalid_request',
              'requestsPerMinute, tokensPerMinute: a rate limit needs at least one of them; delete it instead.',
            ),
          );
      }
      const row = await updateRateLimit(db, organizationId, existing.id, request.body);
      if (!row) return reply.code(404).send(notFound);
      options.onRateLimitChange();
      return rateLimitView(row);
    },
  );
  app.delete(
    '/rate-limits/:id',
    {
      schema: {
        tags: ['rate-limits'],
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errors },
      },
    },
    async (request, reply) => {
      if (!(await deleteRateLimit(db, request.admin.organizationId, request.params.id))) {
        return reply.code(404).send(notFound);
      }
      options.onRateLimitChange();
      return reply.code(204).send(null);
    },
  );
}

function rateLimitView(row: RateLimitRow) {
  return {
    id: row.id,
    scope: row.scope,
    scopeId: row.scopeId,
    requestsPerMinute: row.requestsPerMinute,
    tokensPerMinute: row.tokensPerMinute,
    createdAt: row.createdAt.toISOString(),
  };
}
