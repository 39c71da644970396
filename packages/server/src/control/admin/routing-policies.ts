import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../../store/database.js';
import { projectsOnPolicy } from '../../store/projects.js';
import {
  createRoutingPolicy,
  deleteRoutingPolicy,
  getRoutingPolicy,
  listRoutingPolicies,
  type RoutingPolicyRow,
  UnknownProvidersError,
  updateRoutingPolicy,
} from '../../store/routing-policies.js';
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
import { createRoutingPolicyBody, idParams, listOf, routingPolicySchema } from './schemas.js';
import { updateRoutingPolicyBody } from './update-schemas.js';

export interface RoutingPolicyRouteOptions {
  db: Database;
  /** Resolved keys carry their policy: every change must reach them at once. */
  onPolicyChange(): void;
}

/** Runs a policy write; a provider id that names nothing comes back as the 400 body to send. */
async function providersChecked<T>(
  work: Promise<T>,
): Promise<{ value: T } | { invalid: ReturnType<typeof adminError> }> {
  try {
    return { value: await work };
  } catch (error) {
    if (error instanceof UnknownProvidersError) {
      return { invalid: adminError('unknown_provider', `providers: ${error.message}`) };
    }
    throw error;
  }
}

/** `/api/admin/routing-policies`: which providers serve a project's keys, in what order, and which models. */
export function routingPolicyRoutes(parent: FastifyInstance, options: RoutingPolicyRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.post(
    '/routing-policies',
    {
      schema: {
        tags: ['routing-policies'],
        summary: 'Publish a routing policy',
        security,
        body: createRoutingPolicyBody,
        response: { 201: routingPolicySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { providers, ...rest } = request.body;
      const checked = await providersChecked(
        nameChecked(
          createRoutingPolicy(db, request.admin.organizationId, { ...rest, providerIds: providers }),
        ),
      );
      if ('invalid' in checked) return reply.code(400).send(checked.invalid);
      if ('conflict' in checked.value) return reply.code(409).send(checked.value.conflict);
      options.onPolicyChange();
      return reply.code(201).send(policyView(checked.value.value));
    },
  );
  app.get(
    '/routing-policies',
    {
      schema: {
        tags: ['routing-policies'],
        security,
        response: { 200: listOf(routingPolicySchema), ...errorResponses },
      },
    },
    async (request) => ({
      data: (await listRoutingPolicies(db, request.admin.organizationId)).map(policyView),
    }),
  );
  app.get(
    '/routing-policies/:id',
    {
      schema: {
        tags: ['routing-policies'],
        security,
        params: idParams,
        response: { 200: routingPolicySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await getRoutingPolicy(db, request.admin.organizationId, request.params.id);
      return row ? policyView(row) : reply.code(404).send(notFound('routing policy'));
    },
  );
  app.patch(
    '/routing-policies/:id',
    {
      schema: {
        tags: ['routing-policies'],
        summary: 'Change a routing policy (providers, aliases, model rules, default)',
        security,
        params: idParams,
        body: updateRoutingPolicyBody,
        response: { 200: routingPolicySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { providers, ...rest } = request.body;
      const outcome = await providersChecked(
        nameChecked(
          db.transaction(async (tx) => {
            const existing = await getRoutingPolicy(tx, organizationId, request.params.id);
            if (!existing) return undefined;
            if (existing.isDefault && rest.isDefault === false) {
              // The default cannot simply stop being one: projects relying on it would lose their routes.
              const relying = await projectsOnPolicy(tx, organizationId, {
                id: existing.id,
                inheriting: true,
              });
              const inheriting = relying.filter((project) => project.routingPolicyId === null);
              if (inheriting.length > 0) return { relying: inheriting.map((project) => project.id) };
            }
            return updateRoutingPolicy(tx, organizationId, existing.id, { ...rest, providerIds: providers });
          }),
        ),
      );
      if ('invalid' in outcome) return reply.code(400).send(outcome.invalid);
      if ('conflict' in outcome.value) return reply.code(409).send(outcome.value.conflict);
      const row = outcome.value.value;
      if (!row) return reply.code(404).send(notFound('routing policy'));
      if ('relying' in row) {
        return reply
          .code(409)
          .send(
            adminError(
              'in_use',
              `Projects ${row.relying.join(', ')} inherit this default policy; make another policy the default instead.`,
            ),
          );
      }
      options.onPolicyChange();
      return policyView(row);
    },
  );
  app.delete(
    '/routing-policies/:id',
    {
      schema: {
        tags: ['routing-policies'],
        summary: 'Delete a routing policy no project uses (nor inherits, for the default)',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const outcome = await db.transaction(async (tx) => {
        const existing = await getRoutingPolicy(tx, organizationId, request.params.id);
        if (!existing) return { deleted: false };
        const relying = await projectsOnPolicy(tx, organizationId, {
          id: existing.id,
          inheriting: existing.isDefault,
        });
        const users = [{ kind: 'projects', ids: relying.map((project) => project.id) }];
        if (anyUsers(users)) return { users };
        return { deleted: await deleteRoutingPolicy(tx, organizationId, existing.id) };
      });
      if (outcome.users) return reply.code(409).send(inUse('routing policy', outcome.users));
      if (!outcome.deleted) return reply.code(404).send(notFound('routing policy'));
      options.onPolicyChange();
      return reply.code(204).send(null);
    },
  );
}

function policyView(row: RoutingPolicyRow) {
  return {
    id: row.id,
    name: row.name,
    providers: row.providerIds,
    modelAliases: row.modelAliases,
    allowedModels: row.allowedModels ?? null,
    deniedModels: row.deniedModels,
    isDefault: row.isDefault,
    createdAt: row.createdAt.toISOString(),
  };
}
