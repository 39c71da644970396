import { isValidTimeZone } from '@gatehouse/core';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { getOrganization, type Organization } from '../../store/organizations.js';
import { organizations, storageOutageModes } from '../../store/schema.js';
import { effectiveFlags, FEATURE_FLAGS, type FeatureFlagName, featureFlagNames } from '../feature-flags.js';
import { adminError } from './replies.js';
import { errorSchema } from './schemas.js';

const flagStateSchema = z.object({
  enabled: z.boolean().describe('Whether the flag is on for this organisation now'),
  forced: z
    .boolean()
    .describe(
      'Forced on for the whole deployment (FEATURE_FLAG_FORCE_ENABLE): the organisation cannot switch it off',
    ),
});

const featureFlagsSchema = z
  .object(
    Object.fromEntries(
      featureFlagNames.map((name) => [name, flagStateSchema.describe(FEATURE_FLAGS[name].description)]),
    ) as Record<FeatureFlagName, typeof flagStateSchema>,
  )
  .describe('Release flags: the parts of the web app and the admin API this organisation gets');

/** The owner's switches: any flag of the catalogue, each on or off; no other name. */
const featureFlagsBody = z
  .object(
    Object.fromEntries(featureFlagNames.map((name) => [name, z.boolean().optional()])) as Record<
      FeatureFlagName,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .strict()
  .describe('Switch release flags on or off for this organisation (owners only: featureFlags:manage)');

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
    featureFlags: featureFlagsSchema,
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
    featureFlags: featureFlagsBody.optional(),
  })
  .strict();

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema };
const security = [{ adminToken: [] }];

/**
 * `/api/admin/organization`: the caller's organisation: its name, budget time zone, the email
 * domains that join it on sign-in, the lifetime of personal keys, the outage mode and its
 * release flags (each flag's effective value, and whether the deployment forces it).
 */
export function organizationRoutes(
  parent: FastifyInstance,
  options: {
    db: Database;
    onBudgetChange(): void;
    /** Flags the deployment forces on (FEATURE_FLAG_FORCE_ENABLE). */
    forcedFlags: ReadonlySet<FeatureFlagName>;
  },
): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const view = (row: Organization) => ({
    id: row.id,
    name: row.name,
    timeZone: row.timeZone,
    emailDomains: row.emailDomains,
    personalKeyTtlSeconds: row.personalKeyTtlSeconds,
    storageOutageMode: row.storageOutageMode,
    featureFlags: effectiveFlags(row, options.forcedFlags),
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
        summary:
          'Rename the organisation, change the time zone its budgets follow, its sign-in domains, key lifetime, outage mode or (owners) its release flags',
        security,
        body: updateOrganizationBody,
        response: { 200: organizationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { featureFlags, ...settings } = request.body;
      if (featureFlags !== undefined) {
        // The route needs organization:manage, which admins hold; the flags need more.
        if (!request.admin.permissions.has('featureFlags:manage')) {
          return reply
            .code(403)
            .send(
              adminError('forbidden', 'Switching release flags needs the featureFlags:manage permission.'),
            );
        }
        const forcedOff = featureFlagNames.filter(
          (name) => featureFlags[name] === false && options.forcedFlags.has(name),
        );
        if (forcedOff.length > 0) {
          return reply
            .code(409)
            .send(
              adminError(
                'feature_flag_forced',
                `${forcedOff.join(', ')} is forced on for this deployment (FEATURE_FLAG_FORCE_ENABLE) and cannot be switched off here.`,
              ),
            );
        }
      }
      if (Object.keys(request.body).length === 0) {
        const current = await getOrganization(options.db, request.admin.organizationId);
        return current
          ? view(current)
          : reply.code(404).send({ error: { code: 'not_found', message: 'organization not found' } });
      }
      const [row] = await options.db
        .update(organizations)
        .set({
          ...settings,
          // Merged in the statement, so two owners switching different flags both win.
          ...(featureFlags
            ? { featureFlags: sql`${organizations.featureFlags} || ${JSON.stringify(featureFlags)}::jsonb` }
            : {}),
        })
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
