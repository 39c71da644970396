import { generateVirtualKey, virtualKeyHint } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { providerAdapters } from '../../gateway/providers/registry.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { createProject, getProject, listProjects, type ProjectRow } from '../../store/projects.js';
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  type ProviderRow,
} from '../../store/providers.js';
import {
  createRoutingPolicy,
  getRoutingPolicy,
  listRoutingPolicies,
  type RoutingPolicyRow,
  UnknownProvidersError,
} from '../../store/routing-policies.js';
import type { ProviderType } from '../../store/schema.js';
import { aggregateUsage } from '../../store/usage-events.js';
import {
  getVirtualKey,
  insertVirtualKey,
  listVirtualKeys,
  revokeVirtualKey,
  type VirtualKeyRow,
} from '../../store/virtual-keys.js';
import type { SsoConnections } from '../sso/connections.js';
import { requireAdminToken } from './auth.js';
import { type BudgetRouteOptions, budgetRoutes } from './budgets.js';
import { claudeCodeSettingsRoutes } from './claude-code-settings.js';
import { organizationRoutes } from './organization.js';
import { type RateLimitRouteOptions, rateLimitRoutes } from './rate-limits.js';
import {
  createdVirtualKeySchema,
  createProjectBody,
  createProviderBody,
  createRoutingPolicyBody,
  createVirtualKeyBody,
  errorSchema,
  idParams,
  listOf,
  projectSchema,
  providerSchema,
  routingPolicySchema,
  usageQuery,
  usageResponseSchema,
  virtualKeySchema,
} from './schemas.js';
import { scimTokenRoutes } from './scim-tokens.js';
import { ssoAdminRoutes } from './sso.js';
import { userRoutes } from './users.js';

export interface AdminRouteOptions {
  db: Database;
  box: SecretBox;
  adminToken: string | undefined;
  defaultOrganizationId: string;
  /** Called after any change a gateway caches (keys, policies, providers), so it is seen at once. */
  onPolicyChange(): void;
  now(): Date;
  budgets: Omit<BudgetRouteOptions, 'db' | 'now'>;
  rateLimits: Omit<RateLimitRouteOptions, 'db'>;
  sso: SsoConnections;
  publicUrl: string;
}

/** What each provider type cannot be called without; the rest have usable defaults. */
const requiredFieldsByType: Record<ProviderType, string[]> = {
  openai: [],
  anthropic: [],
  gemini: [],
  azure: ['baseUrl'],
  bedrock: ['region', 'accessKeyId', 'secretAccessKey'],
  vertex: ['projectId', 'location', 'serviceAccountJson'],
};

function isServiceAccountKey(text: string): boolean {
  try {
    const key = JSON.parse(text) as Record<string, unknown>;
    return typeof key.client_email === 'string' && typeof key.private_key === 'string';
  } catch {
    return false;
  }
}

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };
const notFound = (what: string) => ({ error: { code: 'not_found', message: `${what} not found` } });

/** `/api/admin`: providers, routing policies, projects, virtual keys and usage. */
export async function adminRoutes(parent: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box } = options;
  // onRequest, not preHandler: an anonymous caller is refused before its body is even validated.
  app.addHook('onRequest', requireAdminToken(options.adminToken, options.defaultOrganizationId));
  const security = [{ adminToken: [] }];
  budgetRoutes(app, { ...options.budgets, db, now: options.now });
  organizationRoutes(app, { db, onBudgetChange: options.budgets.onBudgetChange });
  claudeCodeSettingsRoutes(app, { db });
  userRoutes(app, { db, onKeysChange: options.onPolicyChange, now: options.now });
  rateLimitRoutes(app, { ...options.rateLimits, db });
  ssoAdminRoutes(app, { connections: options.sso, publicUrl: options.publicUrl });
  scimTokenRoutes(app, { db, box, now: options.now });

  app.post(
    '/providers',
    {
      schema: {
        tags: ['providers'],
        summary: 'Connect a provider credential',
        security,
        body: createProviderBody,
        response: { 201: providerSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { apiKey, accessKeyId, secretAccessKey, sessionToken, serviceAccountJson, ...rest } =
        request.body;
      const { apiVersion, deployments, region, projectId, location, ...common } = rest;
      if (!providerAdapters[rest.type]) {
        return reply.code(400).send({
          error: {
            code: 'unsupported_provider',
            message: `Provider type '${rest.type}' is not supported by this version yet.`,
          },
        });
      }
      const missing = requiredFieldsByType[rest.type].filter(
        (field) => request.body[field as keyof typeof request.body] === undefined,
      );
      if (missing.length > 0) {
        return reply.code(400).send({
          error: {
            code: 'invalid_request',
            message: `A provider of type ${rest.type} needs ${missing.join(', ')}.`,
          },
        });
      }
      if (serviceAccountJson !== undefined && !isServiceAccountKey(serviceAccountJson)) {
        return reply.code(400).send({
          error: {
            code: 'invalid_request',
            message:
              'serviceAccountJson must be a service account key file (JSON with client_email and private_key).',
          },
        });
      }
      // Secret fields are sealed together; the rest of the type-specific fields are plain settings.
      const settings = Object.fromEntries(
        Object.entries({ apiVersion, deployments, region, projectId, location }).filter(
          ([, value]) => value !== undefined,
        ),
      );
      const row = await createProvider(db, box, request.admin.organizationId, {
        ...common,
        settings,
        secret: { apiKey, accessKeyId, secretAccessKey, sessionToken, serviceAccountJson },
      });
      return reply.code(201).send(providerView(row));
    },
  );
  app.get(
    '/providers',
    { schema: { tags: ['providers'], security, response: { 200: listOf(providerSchema), ...errors } } },
    async (request) => ({ data: (await listProviders(db, request.admin.organizationId)).map(providerView) }),
  );
  app.get(
    '/providers/:id',
    {
      schema: {
        tags: ['providers'],
        security,
        params: idParams,
        response: { 200: providerSchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await getProvider(db, request.admin.organizationId, request.params.id);
      return row ? providerView(row) : reply.code(404).send(notFound('provider'));
    },
  );
  app.delete(
    '/providers/:id',
    {
      schema: {
        tags: ['providers'],
        security,
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const usedBy = (await listRoutingPolicies(db, organizationId)).filter((policy) =>
        policy.providerIds.includes(request.params.id),
      );
      if (usedBy.length > 0) {
        return reply.code(409).send({
          error: {
            code: 'in_use',
            message: `The provider is used by routing policies ${usedBy.map((policy) => policy.id).join(', ')}.`,
          },
        });
      }
      if (!(await deleteProvider(db, organizationId, request.params.id))) {
        return reply.code(404).send(notFound('provider'));
      }
      options.onPolicyChange();
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/routing-policies',
    {
      schema: {
        tags: ['routing-policies'],
        summary: 'Publish a routing policy',
        security,
        body: createRoutingPolicyBody,
        response: { 201: routingPolicySchema, ...errors },
      },
    },
    async (request, reply) => {
      try {
        const row = await createRoutingPolicy(db, request.admin.organizationId, {
          name: request.body.name,
          providerIds: request.body.providers,
          modelAliases: request.body.modelAliases,
          allowedModels: request.body.allowedModels,
          deniedModels: request.body.deniedModels,
          isDefault: request.body.isDefault,
        });
        options.onPolicyChange();
        return reply.code(201).send(policyView(row));
      } catch (error) {
        if (error instanceof UnknownProvidersError) {
          return reply.code(400).send({ error: { code: 'unknown_provider', message: error.message } });
        }
        throw error;
      }
    },
  );
  app.get(
    '/routing-policies',
    {
      schema: {
        tags: ['routing-policies'],
        security,
        response: { 200: listOf(routingPolicySchema), ...errors },
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
        response: { 200: routingPolicySchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await getRoutingPolicy(db, request.admin.organizationId, request.params.id);
      return row ? policyView(row) : reply.code(404).send(notFound('routing policy'));
    },
  );

  app.post(
    '/projects',
    {
      schema: {
        tags: ['projects'],
        summary: 'Create a project',
        security,
        body: createProjectBody,
        response: { 201: projectSchema, ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { routingPolicyId } = request.body;
      if (routingPolicyId && !(await getRoutingPolicy(db, organizationId, routingPolicyId))) {
        return reply.code(400).send({
          error: { code: 'unknown_routing_policy', message: `No routing policy ${routingPolicyId}.` },
        });
      }
      const row = await createProject(db, organizationId, request.body);
      return reply.code(201).send(projectView(row));
    },
  );
  app.get(
    '/projects',
    { schema: { tags: ['projects'], security, response: { 200: listOf(projectSchema), ...errors } } },
    async (request) => ({ data: (await listProjects(db, request.admin.organizationId)).map(projectView) }),
  );
  app.get(
    '/projects/:id',
    {
      schema: { tags: ['projects'], security, params: idParams, response: { 200: projectSchema, ...errors } },
    },
    async (request, reply) => {
      const row = await getProject(db, request.admin.organizationId, request.params.id);
      return row ? projectView(row) : reply.code(404).send(notFound('project'));
    },
  );

  app.post(
    '/virtual-keys',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Create a service key (the key is in this response only)',
        security,
        body: createVirtualKeyBody,
        response: { 201: createdVirtualKeySchema, ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const project = await getProject(db, organizationId, request.body.projectId);
      if (!project) {
        return reply
          .code(400)
          .send({ error: { code: 'unknown_project', message: `No project ${request.body.projectId}.` } });
      }
      const key = generateVirtualKey();
      const expiresInSeconds = request.body.expiresInSeconds;
      const row = await insertVirtualKey(db, organizationId, {
        projectId: project.id,
        name: request.body.name,
        kind: 'service',
        keyHash: box.hashVirtualKey(key),
        keyHint: virtualKeyHint(key),
        expiresAt: expiresInSeconds ? new Date(options.now().getTime() + expiresInSeconds * 1000) : undefined,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...keyView(row), key });
    },
  );
  app.get(
    '/virtual-keys',
    {
      schema: {
        tags: ['virtual-keys'],
        security,
        querystring: createVirtualKeyBody.pick({ projectId: true }).partial(),
        response: { 200: listOf(virtualKeySchema), ...errors },
      },
    },
    async (request) => ({
      data: (await listVirtualKeys(db, request.admin.organizationId, request.query)).map(keyView),
    }),
  );
  app.get(
    '/virtual-keys/:id',
    {
      schema: {
        tags: ['virtual-keys'],
        security,
        params: idParams,
        response: { 200: virtualKeySchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await getVirtualKey(db, request.admin.organizationId, request.params.id);
      return row ? keyView(row) : reply.code(404).send(notFound('virtual key'));
    },
  );
  app.delete(
    '/virtual-keys/:id',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Revoke a key; refused from the very next request',
        security,
        params: idParams,
        response: { 200: virtualKeySchema, ...errors },
      },
    },
    async (request, reply) => {
      const row = await revokeVirtualKey(db, request.admin.organizationId, request.params.id, options.now());
      if (!row) return reply.code(404).send(notFound('virtual key'));
      options.onPolicyChange();
      return keyView(row);
    },
  );

  app.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage and cost, grouped',
        security,
        querystring: usageQuery,
        response: { 200: usageResponseSchema, ...errors },
      },
    },
    async (request) => ({
      rows: await aggregateUsage(db, request.admin.organizationId, {
        groupBy: request.query.groupBy,
        from: request.query.from ? new Date(request.query.from) : undefined,
        to: request.query.to ? new Date(request.query.to) : undefined,
      }),
    }),
  );
}

function providerView(row: ProviderRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    baseUrl: row.baseUrl,
    hasApiKey: row.secretCiphertext !== null,
    forwardIdentity: row.forwardIdentity,
    settings: row.settings,
    models: row.models ?? null,
    priceOverrides: row.priceOverrides,
    defaultPrice: row.defaultPrice ?? null,
    createdAt: row.createdAt.toISOString(),
  };
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

function projectView(row: ProjectRow) {
  return {
    id: row.id,
    name: row.name,
    isPersonal: row.isPersonal,
    routingPolicyId: row.routingPolicyId,
    createdAt: row.createdAt.toISOString(),
  };
}

function keyView(row: VirtualKeyRow) {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    kind: row.kind,
    hint: row.keyHint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
