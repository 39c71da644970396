import { isValidTimeZone } from '@gatehouse/core';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { getOrganization, type Organization } from '../../store/organizations.js';
import { organizations, storageOutageModes } from '../../store/schema.js';
import { errorSchema } from './schemas.js';

const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    timeZone: z
      .string()
      .describe("IANA time zone that day, week and month budgets follow, e.g. 'Europe/Lisbon'"),
    emailDomains: z
      .array(z.string())
      .describe(
        'Email domains whose people join this organisation on first sign-in; empty accepts anyone its IdP vouches for',
      ),
    personalKeyTtlSeconds: z
      .number()
      .int()
      .describe('Lifetime of the personal keys people get by signing in'),
    storageOutageMode: z
      .enum(storageOutageModes)
      .describe(
        "While the database or Redis is unreachable: 'closed' refuses budgeted calls with 503 and retry-after, 'open' serves them without budget and rate-limit checks",
      ),
  })
  .meta({ id: 'Organization' });

const updateOrganizationBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    timeZone: z
      .string()
      .refine(isValidTimeZone, { message: 'timeZone must be an IANA time zone such as Europe/Lisbon' })
      .optional(),
    emailDomains: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, {
            message: 'emailDomains must be domain names such as example.com',
          }),
      )
      .max(100)
      .optional(),
    personalKeyTtlSeconds: z
      .number()
      .int()
      .min(300, { message: 'personalKeyTtlSeconds must be at least 300 (5 minutes)' })
      .max(30 * 86_400, { message: 'personalKeyTtlSeconds must be at most 2592000 (30 days)' })
      .optional(),
    storageOutageMode: z.enum(storageOutageModes).optional(),
  })
  .strict();

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/organization`: the caller's organisation: its name, budget time zone, the email
 * domains that join it on sign-in and the lifetime of personal keys.
 */
export function organizationRoutes(
  parent: FastifyInstance,
  options: { db: Database; onBudgetChange(): void },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const view = (row: Organization) => ({
    id: row.id,
    name: row.name,
    timeZone: row.timeZone,
    emailDomains: row.emailDomains,
    personalKeyTtlSeconds: row.personalKeyTtlSeconds,
    storageOutageMode: row.storageOutageMode,
  });

  app.get(
    '/organization',
    { schema: { tags: ['organization'], security, response: { 200: organizationSchema, ...errors } } },
    async (request, reply) => {
      const row = await getOrganization(options.db, request.admin.organizationId);
      return row
        ? view(row)
        : reply.code(404).send({ error: { code: 'not_found', message: 'organization not found' } });
    },
  );
  app.patch(
    '/organization',
    {
      schema: {
        tags: ['organization'],
        summary: 'Rename the organisation or change the time zone its budgets follow',
        security,
        body: updateOrganizationBody,
        response: { 200: organizationSchema, ...errors },
      },
    },
    async (request, reply) => {
      if (Object.keys(request.body).length === 0) {
        const current = await getOrganization(options.db, request.admin.organizationId);
        return current
          ? view(current)
          : reply.code(404).send({ error: { code: 'not_found', message: 'organization not found' } });
      }
      const [row] = await options.db
        .update(organizations)
        .set(request.body)
        .where(eq(organizations.id, request.admin.organizationId))
        .returning();
      if (!row)
        return reply.code(404).send({ error: { code: 'not_found', message: 'organization not found' } });
      // Budget windows are computed in this zone, and the outage mode is read with it: gateways
      // must not keep the old ones.
      if (request.body.timeZone || request.body.storageOutageMode) options.onBudgetChange();
      return view(row);
    },
  );
}
