import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registeredAdapters } from '../../gateway/index.js';
import { typeFieldsOf } from './provider-fields.js';
import { errorResponses, security } from './replies.js';

const providerTypeSchema = z
  .object({
    type: z.string(),
    description: z.string(),
    baseUrlRequired: z.boolean(),
    fields: z.array(
      z.object({
        name: z.string().describe('the flat body field of POST and PATCH /providers'),
        secret: z.boolean().describe('write-only: sealed at rest, never returned'),
        required: z.boolean(),
        description: z.string(),
        schema: z.record(z.string(), z.unknown()).describe("the adapter's own schema of it, as JSON Schema"),
      }),
    ),
  })
  .meta({ id: 'ProviderType' });

/**
 * `GET /api/admin/provider-types`: every registered provider with its credential's fields, read
 * from the adapters' own schemas, so the web app's forms follow the registry with no list of
 * their own.
 */
export function providerTypeRoutes(parent: FastifyInstance): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const types = registeredAdapters().map((adapter) => ({
    type: adapter.type,
    description: adapter.description,
    baseUrlRequired: adapter.credential.baseUrlRequired === true,
    fields: typeFieldsOf(adapter),
  }));
  app.get(
    '/provider-types',
    {
      schema: {
        tags: ['providers'],
        summary: "The provider types this server can call, with each credential's fields",
        security,
        response: { 200: z.object({ data: z.array(providerTypeSchema) }), ...errorResponses },
      },
    },
    async () => ({ data: types }),
  );
}
