import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../../store/database.js';
import { aggregateUsage } from '../../store/usage-events.js';
import { roundUsd } from './money.js';
import { errorResponses, security } from './replies.js';
import { usageQuery, usageResponseSchema } from './schemas.js';

/** `/api/admin/usage`: calls, tokens and cost from the usage ledger, grouped and filtered. */
export function usageRoutes(parent: FastifyInstance, options: { db: Database }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage and cost, grouped (by model unless groupBy says otherwise) and filtered',
        security,
        querystring: usageQuery,
        response: { 200: usageResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { from, to, ...filter } = request.query;
      const rows = await aggregateUsage(options.db, request.admin.organizationId, {
        ...filter,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
      return {
        groupBy: request.query.groupBy,
        rows: rows.map((row) => ({ ...row, costUsd: roundUsd(row.costUsd) })),
      };
    },
  );
}
