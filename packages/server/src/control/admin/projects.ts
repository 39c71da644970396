import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { budgetsReferencing } from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  liveKeysOfProject,
  type ProjectRow,
  updateProject,
} from '../../store/projects.js';
import { rateLimitsReferencing } from '../../store/rate-limits.js';
import { getRoutingPolicy } from '../../store/routing-policies.js';
import { getTeam } from '../../store/users.js';
import {
  adminError,
  anyUsers,
  deletedResponse,
  errorResponses,
  inUse,
  nameChecked,
  notFound,
  security,
} from './replies.js';
import { createProjectBody, idParams, listOf, projectSchema } from './schemas.js';
import { updateProjectBody } from './update-schemas.js';

export interface ProjectRouteOptions {
  db: Database;
  /** Resolved keys carry their project's policy and team: every change must reach them at once. */
  onPolicyChange(): void;
  now(): Date;
}

/** `/api/admin/projects`: what keys belong to, and so which policy, team and budgets reach them. */
export function projectRoutes(parent: FastifyInstance, options: ProjectRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.post(
    '/projects',
    {
      schema: {
        tags: ['projects'],
        summary: 'Create a project',
        security,
        body: createProjectBody,
        response: { 201: projectSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { routingPolicyId } = request.body;
      if (routingPolicyId && !(await getRoutingPolicy(db, organizationId, routingPolicyId))) {
        return reply
          .code(400)
          .send(
            adminError('unknown_routing_policy', `routingPolicyId: no routing policy ${routingPolicyId}.`),
          );
      }
      const created = await nameChecked(createProject(db, organizationId, request.body));
      if ('conflict' in created) return reply.code(409).send(created.conflict);
      return reply.code(201).send(projectView(created.value));
    },
  );
  app.get(
    '/projects',
    { schema: { tags: ['projects'], security, response: { 200: listOf(projectSchema), ...errorResponses } } },
    async (request) => ({ data: (await listProjects(db, request.admin.organizationId)).map(projectView) }),
  );
  app.get(
    '/projects/:id',
    {
      schema: {
        tags: ['projects'],
        security,
        params: idParams,
        response: { 200: projectSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await getProject(db, request.admin.organizationId, request.params.id);
      return row ? projectView(row) : reply.code(404).send(notFound('project'));
    },
  );
  app.patch(
    '/projects/:id',
    {
      schema: {
        tags: ['projects'],
        summary: 'Rename a project, or change its routing policy or team',
        security,
        params: idParams,
        body: updateProjectBody,
        response: { 200: projectSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { routingPolicyId, teamId } = request.body;
      const existing = await getProject(db, organizationId, request.params.id);
      if (!existing) return reply.code(404).send(notFound('project'));
      if (routingPolicyId && !(await getRoutingPolicy(db, organizationId, routingPolicyId))) {
        return reply
          .code(400)
          .send(
            adminError('unknown_routing_policy', `routingPolicyId: no routing policy ${routingPolicyId}.`),
          );
      }
      if (teamId !== undefined && existing.isPersonal) {
        return reply
          .code(400)
          .send(
            adminError(
              'invalid_request',
              "teamId: a personal project follows its owner's team; move the person (PATCH /users/{id}).",
            ),
          );
      }
      if (teamId && !(await getTeam(db, organizationId, teamId))) {
        return reply.code(400).send(adminError('unknown_team', `teamId: no team ${teamId}.`));
      }
      const updated = await nameChecked(
        db.transaction((tx) => updateProject(tx, organizationId, existing.id, request.body)),
      );
      if ('conflict' in updated) return reply.code(409).send(updated.conflict);
      if (!updated.value) return reply.code(404).send(notFound('project'));
      options.onPolicyChange();
      return projectView(updated.value);
    },
  );
  app.delete(
    '/projects/:id',
    {
      schema: {
        tags: ['projects'],
        summary: 'Delete a project with no live keys, budgets or rate limits (its dead keys go with it)',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const now = options.now();
      const outcome = await db.transaction(async (tx) => {
        const existing = await getProject(tx, organizationId, request.params.id);
        if (!existing) return { deleted: false };
        if (existing.isPersonal) {
          return {
            refusal: adminError(
              'in_use',
              `The project is the personal project of user ${existing.ownerUserId}; revoke their access instead.`,
            ),
          };
        }
        const scope = { scope: 'project', scopeId: existing.id } as const;
        const users = [
          {
            kind: 'live keys',
            ids: (await liveKeysOfProject(tx, organizationId, existing.id, now)).map((k) => k.id),
          },
          {
            kind: 'budgets',
            ids: (await budgetsReferencing(tx, organizationId, scope)).map((row) => row.id),
          },
          {
            kind: 'rate limits',
            ids: (await rateLimitsReferencing(tx, organizationId, scope)).map((row) => row.id),
          },
        ];
        if (anyUsers(users)) return { refusal: inUse('project', users) };
        return { deleted: await deleteProject(tx, organizationId, existing.id, now) };
      });
      if (outcome.refusal) return reply.code(409).send(outcome.refusal);
      if (!outcome.deleted) return reply.code(404).send(notFound('project'));
      options.onPolicyChange();
      return reply.code(204).send(null);
    },
  );
}

function projectView(row: ProjectRow) {
  return {
    id: row.id,
    name: row.name,
    isPersonal: row.isPersonal,
    routingPolicyId: row.routingPolicyId,
    teamId: row.teamId,
    createdAt: row.createdAt.toISOString(),
  };
}
