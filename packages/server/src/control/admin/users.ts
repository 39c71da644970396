import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { findUsers, getTeam, getUser, setUserTeam, type UserRow } from '../../store/users.js';
import { revokeAllAccess } from '../personal-access.js';
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
 * `/api/admin/users`: find a person, put them in a team (budgets and policies can target teams,
 * `teams.ts`), and cut off all of their access in one call (every key, CLI
 * sign-in and browser session of theirs, refused from the very next request on every instance).
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
  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Move a person into a team, or out of any (null)',
        security,
        params: idParams,
        body: z.object({ teamId: z.string().nullable() }).strict(),
        response: { 200: userSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.admin;
      const { teamId } = request.body;
      if (teamId !== null && !(await getTeam(options.db, organizationId, teamId))) {
        return reply.code(400).send({ error: { code: 'invalid_request', message: 'teamId names no team' } });
      }
      const user = await setUserTeam(options.db, organizationId, request.params.id, teamId);
      if (!user) return reply.code(404).send({ error: { code: 'not_found', message: 'user not found' } });
      // Resolved keys carry the team; every instance must re-read them.
      options.onKeysChange();
      return view(user);
    },
  );
  app.post(
    '/users/:id/revoke-access',
    {
      schema: {
        tags: ['users'],
        summary: "Revoke every key, CLI sign-in and browser session of a person's, at once",
        security,
        params: idParams,
        response: {
          200: z.object({
            userId: z.string(),
            revokedKeys: z.number().int(),
            revokedGrants: z.number().int().describe('CLI sign-ins (and their refresh tokens) revoked'),
            revokedSessions: z.number().int(),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const user = await getUser(options.db, request.admin.organizationId, request.params.id);
      if (!user) return reply.code(404).send({ error: { code: 'not_found', message: 'user not found' } });
      const revoked = await revokeAllAccess(options.db, request.admin.organizationId, user.id, options.now());
      options.onKeysChange();
      return { userId: user.id, ...revoked };
    },
  );
}
