import type { ApiKind } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Authenticator, type CircuitBreakers, previewRoute } from '../../gateway/index.js';
import type { Database } from '../../store/database.js';
import { getProject } from '../../store/projects.js';
import { getRoutingPolicy } from '../../store/routing-policies.js';
import { errorResponses, notFound, security } from './replies.js';

export interface RoutingPreviewRouteOptions {
  db: Database;
  /** Loads a project's effective policy exactly as a key's first call does. */
  authenticator: Authenticator;
  /** The breakers dispatch reads, so an open circuit shows as it would skip a real call. */
  breakers: CircuitBreakers;
}

const apiKinds = [
  'openai-chat',
  'openai-responses',
  'openai-embeddings',
  'anthropic-messages',
  'anthropic-count-tokens',
  'gemini-generate',
  'gemini-count-tokens',
] as const satisfies readonly ApiKind[];

export const previewQuery = z.object({
  model: z.string().trim().min(1).max(200).describe('the model a client would ask for'),
  projectId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe("route as this project's keys are routed: its policy, else the default"),
  policyId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('route by this policy (default: the default policy)'),
  api: z.enum(apiKinds).default('openai-chat').describe('the API the client speaks'),
});

const previewSchema = z
  .object({
    policy: z
      .object({ id: z.string(), name: z.string(), source: z.enum(['project', 'named', 'default']) })
      .nullable()
      .describe('the policy that applies; null when none does'),
    requestedModel: z.string(),
    model: z.string().describe('what the provider is asked for, after aliases'),
    allowed: z.boolean().describe('whether the allow and deny lists let the model through'),
    refusal: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .describe('what a real call would be refused with; null when it would be served'),
    chain: z.array(
      z.object({
        providerId: z.string(),
        name: z.string(),
        type: z.string(),
        tryOrder: z.number().int().nullable(),
        skipped: z
          .enum(['unknown_provider_type', 'model_not_served', 'api_not_spoken', 'circuit_open'])
          .nullable(),
        translated: z.boolean().nullable(),
        dialect: z.string().nullable(),
        retryInSeconds: z.number().int().nullable(),
      }),
    ),
  })
  .meta({ id: 'RoutingPreview' });

/**
 * `GET /api/admin/routing-policies/preview`: which credential would serve a model, answered by
 * the gateway's own resolver on the policy a call would get, not by a second copy of its rules.
 */
export function routingPreviewRoutes(parent: FastifyInstance, options: RoutingPreviewRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/routing-policies/preview',
    {
      schema: {
        tags: ['routing-policies'],
        summary: 'Which policy, alias and credentials would serve a model, and which are skipped and why',
        security,
        querystring: previewQuery,
        response: { 200: previewSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { model, projectId, policyId, api } = request.query;
      let routingPolicyId: string | null = policyId ?? null;
      let source: 'project' | 'named' | 'default' = policyId ? 'named' : 'default';
      if (projectId !== undefined) {
        const project = await getProject(options.db, organizationId, projectId);
        if (!project) return reply.code(404).send(notFound('project'));
        routingPolicyId = project.routingPolicyId;
        source = project.routingPolicyId ? 'project' : 'default';
      }
      if (routingPolicyId && !(await getRoutingPolicy(options.db, organizationId, routingPolicyId))) {
        return reply.code(404).send(notFound('routing policy'));
      }
      const policy = await options.authenticator.policyFor(organizationId, routingPolicyId);
      const row = policy.id ? await getRoutingPolicy(options.db, organizationId, policy.id) : undefined;
      return {
        policy: row ? { id: row.id, name: row.name, source } : null,
        ...previewRoute(policy, api, model, options.breakers),
      };
    },
  );
}
