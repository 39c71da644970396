import { adminTokenHint, generateAdminToken } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SecretBox } from '../../security/secret-box.js';
import {
  type AdminTokenRow,
  insertAdminToken,
  listAdminTokens,
  revokeAdminToken,
} from '../../store/admin-tokens.js';
import type { Database } from '../../store/database.js';
import { BUILT_IN_ROLE_PERMISSIONS, BUILT_IN_ROLES, isPermission, PERMISSIONS } from '../permissions.js';
import { beyondCaller, grantScopeSchema, grantScopeView, placeOfScope } from './grant-scope.js';
import { errorSchema, idParams, listOf } from './schemas.js';

const timestamp = z.string().describe('ISO 8601 timestamp');
/** A year: automation tokens should be rotated; a longer one is a forgotten one. */
const MAX_LIFETIME_SECONDS = 366 * 24 * 3600;

const adminTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    scope: grantScopeSchema,
    tokenHint: z.string().describe('The last few characters, to recognise a token; never the token'),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable().describe('Last request made with it (to the minute)'),
  })
  .meta({ id: 'AdminToken' });

const createdAdminTokenSchema = adminTokenSchema
  .omit({ revokedAt: true, lastUsedAt: true })
  .extend({ token: z.string().describe('The bearer for /api/admin. Shown once; stored hashed') })
  .meta({ id: 'CreatedAdminToken' });

const createAdminTokenBody = z
  .object({
    name: z.string().trim().min(1).max(200).describe('What uses it, e.g. "terraform"'),
    permissions: z.array(z.enum(PERMISSIONS)).min(1).optional().describe('Permissions it carries'),
    role: z
      .enum(BUILT_IN_ROLES)
      .optional()
      .describe("A built-in role's permissions it carries (with any listed)"),
    scope: grantScopeSchema
      .optional()
      .describe('Where its permissions apply; the whole organisation when left out'),
    expiresInSeconds: z.number().int().min(60).max(MAX_LIFETIME_SECONDS).optional(),
  })
  .strict()
  .refine((body) => body.permissions !== undefined || body.role !== undefined, {
    message: 'Give permissions, a role, or both.',
  });

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/tokens`: admin tokens for automation, each carrying named permissions in the
 * caller's organisation. A caller can hand out only permissions it holds itself.
 */
export function adminTokenRoutes(
  parent: FastifyInstance,
  options: { db: Database; box: SecretBox; now(): Date },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box } = options;

  app.post(
    '/tokens',
    {
      schema: {
        tags: ['admin tokens'],
        summary: 'Create an admin token (shown once)',
        security,
        body: createAdminTokenBody,
        response: { 201: createdAdminTokenSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { name, role, expiresInSeconds } = request.body;
      const permissions = [
        ...new Set([...(role ? BUILT_IN_ROLE_PERMISSIONS[role] : []), ...(request.body.permissions ?? [])]),
      ];
      const place = await placeOfScope(db, request.admin.organizationId, request.body.scope);
      if (!place) {
        return reply.code(400).send({
          error: {
            code: 'unknown_scope',
            message: `scope: no ${request.body.scope?.kind} ${request.body.scope?.id} in this organisation.`,
          },
        });
      }
      const beyond = beyondCaller(request.admin.access, permissions, place);
      if (beyond.length > 0) {
        return reply.code(403).send({
          error: {
            code: 'forbidden',
            message: `You cannot grant what you do not hold: ${beyond.join(', ')}.`,
          },
        });
      }
      const token = generateAdminToken();
      const row = await insertAdminToken(db, {
        organizationId: request.admin.organizationId,
        name,
        permissions,
        scope: request.body.scope?.kind ?? 'organization',
        scopeId: request.body.scope?.id ?? null,
        tokenHash: box.hashToken(token),
        tokenHint: adminTokenHint(token),
        expiresAt: expiresInSeconds ? new Date(options.now().getTime() + expiresInSeconds * 1000) : null,
      });
      const { revokedAt: _revoked, lastUsedAt: _used, ...view } = tokenView(row);
      return reply.code(201).send({ ...view, token });
    },
  );
  app.get(
    '/tokens',
    {
      schema: {
        tags: ['admin tokens'],
        summary: 'List admin tokens with their last use',
        security,
        response: { 200: listOf(adminTokenSchema), ...errors },
      },
    },
    async (request) => ({ data: (await listAdminTokens(db, request.admin.organizationId)).map(tokenView) }),
  );
  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['admin tokens'],
        summary: 'Revoke an admin token; its next request is refused',
        security,
        params: idParams,
        response: { 204: z.null().describe('Revoked'), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await revokeAdminToken(db, request.admin.organizationId, request.params.id, options.now()))) {
        return reply.code(404).send({ error: { code: 'not_found', message: 'Admin token not found' } });
      }
      return reply.code(204).send(null);
    },
  );
}

function tokenView(row: AdminTokenRow) {
  return {
    id: row.id,
    name: row.name,
    permissions: row.permissions.filter(isPermission),
    scope: grantScopeView(row.scope, row.scopeId),
    tokenHint: row.tokenHint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
