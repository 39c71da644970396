import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { insertScimToken, listScimTokens, revokeScimToken, type ScimTokenRow } from '../../store/scim.js';
import { errorSchema, idParams, listOf } from './schemas.js';

/** `ghs_` and 32 random bytes: recognisable in a secret scanner, unguessable. */
export const SCIM_TOKEN_PREFIX = 'ghs_';

const timestamp = z.string().describe('ISO 8601 timestamp');

const scimTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tokenHint: z.string().describe('The last few characters, to recognise a token; never the token'),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'ScimToken' });

const createdScimTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    token: z
      .string()
      .describe('The bearer for your identity provider’s SCIM client. Shown once; stored hashed'),
    tokenHint: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'CreatedScimToken' });

export const createScimTokenBody = z
  .object({ name: z.string().trim().min(1).max(200).describe('Which identity provider uses it, e.g. Okta') })
  .strict();

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/scim-tokens`: bearer tokens for an identity provider's SCIM client (`/scim/v2`),
 * acting for this organisation. Revoking one refuses its very next request.
 */
export function scimTokenRoutes(
  parent: FastifyInstance,
  options: { db: Database; box: SecretBox; now(): Date },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box } = options;

  app.post(
    '/scim-tokens',
    {
      schema: {
        tags: ['scim'],
        summary: 'Create a SCIM token (shown once)',
        security,
        body: createScimTokenBody,
        response: { 201: createdScimTokenSchema, ...errors },
      },
    },
    async (request, reply) => {
      const token = `${SCIM_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const row = await insertScimToken(db, {
        organizationId: request.admin.organizationId,
        name: request.body.name,
        tokenHash: box.hashToken(token),
        tokenHint: `${SCIM_TOKEN_PREFIX}…${token.slice(-4)}`,
      });
      const { revokedAt: _revokedAt, ...view } = tokenView(row);
      return reply.code(201).send({ ...view, token });
    },
  );
  app.get(
    '/scim-tokens',
    { schema: { tags: ['scim'], security, response: { 200: listOf(scimTokenSchema), ...errors } } },
    async (request) => ({ data: (await listScimTokens(db, request.admin.organizationId)).map(tokenView) }),
  );
  app.delete(
    '/scim-tokens/:id',
    {
      schema: {
        tags: ['scim'],
        summary: 'Revoke a SCIM token; its next request is refused',
        security,
        params: idParams,
        response: { 204: z.null().describe('Revoked'), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await revokeScimToken(db, request.admin.organizationId, request.params.id, options.now()))) {
        return reply.code(404).send({ error: { code: 'not_found', message: 'SCIM token not found' } });
      }
      return reply.code(204).send(null);
    },
  );
}

function tokenView(row: ScimTokenRow) {
  return {
    id: row.id,
    name: row.name,
    tokenHint: row.tokenHint,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
