import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Authenticator, adapterFor, testConnection, type UpstreamClient } from '../../gateway/index.js';
import type { Database } from '../../store/database.js';
import { getProvider } from '../../store/providers.js';
import { errorResponses, notFound, security, unsupportedProvider } from './replies.js';
import { idParams } from './schemas.js';

export interface ProviderConnectionRouteOptions {
  db: Database;
  /** Turns the stored credential into what the gateway calls (decrypted, never answered). */
  authenticator: Authenticator;
  /** The gateway's own upstream client: its outbound address rules and timeouts apply. */
  upstream: UpstreamClient;
}

const connectionTestSchema = z
  .object({
    ok: z.boolean(),
    status: z.number().int().nullable().describe("the provider's HTTP status; null when it never answered"),
    latencyMs: z.number().int().nonnegative(),
    message: z.string().describe('what happened and what to do about it; never a secret'),
  })
  .meta({ id: 'ProviderConnectionTest' });

/** `POST /api/admin/providers/:id/test`: one cheap real request with the stored credential. */
export function providerConnectionRoutes(
  parent: FastifyInstance,
  options: ProviderConnectionRouteOptions,
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/providers/:id/test',
    {
      schema: {
        tags: ['providers'],
        summary: 'Test a provider credential: one cheap request (e.g. its model list) with its stored secret',
        security,
        params: idParams,
        response: { 200: connectionTestSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await getProvider(options.db, request.admin.organizationId, request.params.id);
      if (!row) return reply.code(404).send(notFound('provider'));
      const adapter = adapterFor(row.type);
      if (!adapter) {
        return reply.code(400).send(unsupportedProvider(row.type));
      }
      return testConnection(options.upstream, adapter, options.authenticator.credentialTarget(row));
    },
  );
}
