import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { type RecentPosition, recentRequestsOf } from '../../store/usage-recent.js';
import { roundUsd } from '../admin/money.js';
import { adminError } from '../admin/replies.js';
import { usageQuery, usageResponseSchema } from '../admin/schemas.js';
import { usageReport } from '../admin/usage.js';

const errors = { 400: z.object({ error: z.object({ code: z.string(), message: z.string() }) }) };
const security: Record<string, string[]>[] = [{ personalKey: [] }, { session: [] }];

const myUsageQuery = usageQuery.pick({
  groupBy: true,
  from: true,
  to: true,
  model: true,
  tool: true,
  status: true,
  interval: true,
});

const myRequestsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('At most this many (default 50)'),
    cursor: z.string().max(100).optional().describe('nextCursor of the previous page'),
  })
  .strict();

const myRequestSchema = z
  .object({
    requestId: z.string().describe('The x-gatehouse-request-id the call was answered with'),
    createdAt: z.string().describe('ISO 8601 timestamp'),
    model: z.string(),
    tool: z
      .string()
      .nullable()
      .describe('The coding tool that made it, from its User-Agent; null when unknown'),
    providerType: z.string().nullable().describe('The vendor that served it; null when refused before'),
    status: z.number().int(),
    errorCode: z.string().nullable(),
    streamed: z.boolean(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number(),
    unpriced: z.boolean().describe('No price was known: the cost is unknown, not 0'),
    latencyMs: z.number().int(),
  })
  .meta({ id: 'MyRequest' });

/**
 * `/api/me/usage` and `/api/me/requests`: a person's own spend and calls. The principal is always
 * the caller (`request.person`, set by the `/api/me` hook), never a parameter.
 */
export function selfUsageRoutes(parent: FastifyInstance, options: { db: Database; now(): Date }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.get(
    '/usage',
    {
      schema: {
        tags: ['me'],
        summary: 'My usage and cost, grouped (by model unless groupBy says otherwise), over time',
        security,
        querystring: myUsageQuery,
        response: { 200: usageResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { user } = request.person;
      const answer = await usageReport(db, user.organizationId, request.query, {
        now: options.now(),
        fixed: { principalId: user.id },
      });
      if ('error' in answer) return reply.code(400).send(adminError(answer.error.code, answer.error.message));
      return answer.report;
    },
  );

  app.get(
    '/requests',
    {
      schema: {
        tags: ['me'],
        summary: 'My recent calls through the gateway, newest first',
        security,
        querystring: myRequestsQuery,
        response: {
          200: z.object({
            data: z.array(myRequestSchema),
            nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null at the end'),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { user } = request.person;
      const { limit, cursor } = request.query;
      const before = cursor === undefined ? undefined : positionOfCursor(cursor);
      if (before === null) return reply.code(400).send(adminError('invalid_request', 'cursor is not valid'));
      const rows = await recentRequestsOf(db, user.organizationId, user.id, { limit, before });
      const last = rows.at(-1);
      return {
        data: rows.map((row) => ({
          requestId: row.requestId,
          createdAt: row.createdAt.toISOString(),
          model: row.model,
          tool: row.clientTool,
          providerType: row.providerType,
          status: row.status,
          errorCode: row.errorCode,
          streamed: row.streamed,
          inputTokens: row.inputTokens,
          outputTokens: row.outputTokens,
          costUsd: roundUsd(row.costUsd),
          unpriced: row.unpriced,
          latencyMs: row.latencyMs,
        })),
        nextCursor: rows.length === limit && last ? cursorOf(last) : null,
      };
    },
  );
}

/** Opaque to callers; inside, the last event's time in milliseconds and its sequence. */
function cursorOf(position: RecentPosition): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.sequence}`).toString('base64url');
}

function positionOfCursor(cursor: string): RecentPosition | null {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return null;
  return { createdAt: new Date(Number(match[1])), sequence: Number(match[2]) };
}
