import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { budgetsReferencing } from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import { projectsInTeam } from '../../store/projects.js';
import {
  createTeam,
  deleteTeam,
  listTeams,
  renameTeam,
  type TeamRow,
  usersInTeam,
} from '../../store/users.js';
import {
  anyUsers,
  deletedResponse,
  errorResponses,
  inUse,
  nameChecked,
  notFound,
  security,
} from './replies.js';
import { idParams, listOf } from './schemas.js';
import { updateTeamBody } from './update-schemas.js';

const teamSchema = z
  .object({ id: z.string(), name: z.string(), externalId: z.string().nullable(), createdAt: z.string() })
  .meta({ id: 'Team' });

/** `/api/admin/teams`: groups of people (SCIM groups create theirs) that budgets and policies can target. */
export function teamRoutes(parent: FastifyInstance, options: { db: Database }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.get(
    '/teams',
    { schema: { tags: ['users'], security, response: { 200: listOf(teamSchema), ...errorResponses } } },
    async (request) => ({ data: (await listTeams(db, request.admin.organizationId)).map(teamView) }),
  );
  app.post(
    '/teams',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a team (SCIM groups create theirs)',
        security,
        body: updateTeamBody,
        response: { 201: teamSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await nameChecked(createTeam(db, request.admin.organizationId, request.body.name));
      if ('conflict' in created) return reply.code(409).send(created.conflict);
      return reply.code(201).send(teamView(created.value));
    },
  );
  app.patch(
    '/teams/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Rename a team',
        security,
        params: idParams,
        body: updateTeamBody,
        response: { 200: teamSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const renamed = await nameChecked(
        renameTeam(db, request.admin.organizationId, request.params.id, request.body.name),
      );
      if ('conflict' in renamed) return reply.code(409).send(renamed.conflict);
      return renamed.value ? teamView(renamed.value) : reply.code(404).send(notFound('team'));
    },
  );
  app.delete(
    '/teams/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a team with no members, projects or budgets',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const teamId = request.params.id;
      const outcome = await db.transaction(async (tx) => {
        const users = [
          { kind: 'members', ids: (await usersInTeam(tx, organizationId, teamId)).map((row) => row.id) },
          { kind: 'projects', ids: (await projectsInTeam(tx, organizationId, teamId)).map((row) => row.id) },
          {
            kind: 'budgets',
            ids: (await budgetsReferencing(tx, organizationId, { scope: 'team', scopeId: teamId })).map(
              (row) => row.id,
            ),
          },
        ];
        if (anyUsers(users)) return { users };
        return { deleted: await deleteTeam(tx, organizationId, teamId) };
      });
      if (outcome.users) return reply.code(409).send(inUse('team', outcome.users));
      if (!outcome.deleted) return reply.code(404).send(notFound('team'));
      return reply.code(204).send(null);
    },
  );
}

function teamView(row: TeamRow) {
  return {
    id: row.id,
    name: row.name,
    externalId: row.externalId,
    createdAt: row.createdAt.toISOString(),
  };
}
