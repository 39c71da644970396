import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { findUsers, getUser, revokeUserKeys, type UserRow } from '../../store/users.js';
import { errorSchema, idParams, listOf } from './schemas.js';

const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    teamId: z.string().nullable(),
    disabledAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'User' });

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/users`: find a person, and cut off all of their access in one call (every key of
 * theirs is refused from the very next request, on every instance).
 */
export function userRoutes(
  parent: FastifyInstance,
  options: { db: Database; onKeysChange(): void; now(): Date },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const view = (row: UserRow) => ({
    id: row.id,
    email: row.email,
    name: row.name,
    teamId: row.teamId,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  });

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        security,
        querystring: z.object({ email: z.string().min(3).max(320).optional() }).strict(),
        response: { 200: listOf(userSchema), ...errors },
      },
    },
    async (request) => ({
      data: (await findUsers(options.db, request.admin.organizationId, request.query)).map(view),
    }),
  );
  app.post(
    '/users/:id/revoke-access',
    {
      schema: {
        tags: ['users'],
        summary: "Revoke every key of a person's, at once",
        security,
        params: idParams,
        response: { 200: z.object({ userId: z.string(), revokedKeys: z.number().int() }), ...errors },
      },
    },
    async (request, reply) => {
      const user = await getUser(options.db, request.admin.organizationId, request.params.id);
      if (!user) return reply.code(404).send({ error: { code: 'not_found', message: 'user not found' } });
      const revokedKeys = await revokeUserKeys(
        options.db,
        request.admin.organizationId,
        user.id,
        options.now(),
      );
      options.onKeysChange();
      return { userId: user.id, revokedKeys };
    },
  );
}
