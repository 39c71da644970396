import { windowBounds } from '@gatehouse/core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CircuitBreakers } from '../../gateway/index.js';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import { listProviders } from '../../store/providers.js';
import {
  activePeopleSince,
  credentialHealthSince,
  spendBetween,
  topSpenders,
} from '../../store/usage-governance.js';
import { roundUsd } from './money.js';
import { errorResponses, security } from './replies.js';

const DAY_MS = 86_400_000;
/** "Active" means a call within this many days. */
const ACTIVE_DAYS = 30;
/** Provider health is read from the attempts of this many recent hours. */
const HEALTH_HOURS = 24;
const TOP_SPENDERS = 5;

const timestamp = z.string().describe('ISO 8601 timestamp');
const periodSchema = z.object({
  costUsd: z.number(),
  since: timestamp.describe('Where the period starts, in the organisation time zone'),
  previousUsd: z
    .number()
    .describe(
      'The previous period up to the same point in it (yesterday by this time, last month to this day)',
    ),
});

const summarySchema = z
  .object({
    timeZone: z.string(),
    spend: z.object({ today: periodSchema, month: periodSchema }),
    people: z.object({
      active: z.number().int().describe(`People who made a call in the last ${ACTIVE_DAYS} days`),
      new: z
        .number()
        .int()
        .describe(`Of them, those who joined the organisation in those ${ACTIVE_DAYS} days`),
      days: z.number().int(),
    }),
    topSpenders: z
      .array(
        z.object({
          principalId: z.string(),
          label: z.string().nullable().describe("The person's name or email, or the service key's name"),
          kind: z.enum(['person', 'serviceKey']),
          costUsd: z.number(),
          requests: z.number().int(),
          topModel: z.string().nullable(),
          topTool: z.string().nullable().describe('The coding tool they called with most; null when unknown'),
        }),
      )
      .describe('This month, most spent first'),
    providers: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          type: z.string(),
          attempts: z.number().int(),
          failures: z.number().int().describe('No answer, 429 or 5xx'),
          errorRate: z.number().nullable().describe('failures / attempts; null without attempts'),
          p50LatencyMs: z.number().nullable().describe("Time to the provider's headers"),
          p95LatencyMs: z.number().nullable(),
          circuit: z.enum(['closed', 'open']).describe('open: skipped after repeated failures'),
          retryInSeconds: z.number().int().nullable(),
        }),
      )
      .describe(`Each provider credential over the last ${HEALTH_HOURS} hours`),
    healthHours: z.number().int(),
  })
  .meta({ id: 'GovernanceSummary' });

export interface GovernanceRouteOptions {
  db: Database;
  /** The gateway's breakers: whether a credential is being skipped right now. */
  circuits: Pick<CircuitBreakers, 'blockedFor'>;
  now(): Date;
}

/** The current period's start and cost, and the previous period's cost up to the same point. */
async function periodSpend(
  db: Database,
  organizationId: string,
  window: 'day' | 'month',
  now: number,
  timeZone: string,
) {
  const current = windowBounds(window, now, timeZone);
  const previous = windowBounds(window, current.start - 1, timeZone);
  const previousEnd = Math.min(previous.start + (now - current.start), current.start);
  const [costUsd, previousUsd] = await Promise.all([
    spendBetween(db, organizationId, new Date(current.start), new Date(now + 1)),
    spendBetween(db, organizationId, new Date(previous.start), new Date(previousEnd)),
  ]);
  return {
    costUsd: roundUsd(costUsd),
    since: new Date(current.start).toISOString(),
    previousUsd: roundUsd(previousUsd),
  };
}

/** `/api/admin/governance/summary`: what the governance home shows at a glance. */
export function governanceRoutes(parent: FastifyInstance, options: GovernanceRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;
  app.get(
    '/governance/summary',
    {
      schema: {
        tags: ['governance'],
        summary:
          'Spend today and this month against the previous period, active people, top spenders, provider health',
        security,
        response: { 200: summarySchema, ...errorResponses },
      },
    },
    async (request) => {
      const organizationId = request.admin.organizationId;
      const now = options.now().getTime();
      const timeZone = (await getOrganization(db, organizationId))?.timeZone ?? 'UTC';
      const month = windowBounds('month', now, timeZone);
      const [today, thisMonth, people, spenders, health, providers] = await Promise.all([
        periodSpend(db, organizationId, 'day', now, timeZone),
        periodSpend(db, organizationId, 'month', now, timeZone),
        activePeopleSince(db, organizationId, new Date(now - ACTIVE_DAYS * DAY_MS)),
        topSpenders(db, organizationId, { from: new Date(month.start), to: new Date(now + 1) }, TOP_SPENDERS),
        credentialHealthSince(db, organizationId, new Date(now - HEALTH_HOURS * 3_600_000)),
        listProviders(db, organizationId),
      ]);
      return {
        timeZone,
        spend: { today, month: thisMonth },
        people: { active: people.active, new: people.joined, days: ACTIVE_DAYS },
        topSpenders: spenders.map((spender) => ({ ...spender, costUsd: roundUsd(spender.costUsd) })),
        providers: providers.map((provider) => {
          const measured = health.find((row) => row.providerId === provider.id);
          const attempts = measured?.attempts ?? 0;
          const blockedMs = options.circuits.blockedFor(provider.id);
          return {
            id: provider.id,
            name: provider.name,
            type: provider.type,
            attempts,
            failures: measured?.failures ?? 0,
            errorRate: attempts === 0 ? null : (measured?.failures ?? 0) / attempts,
            p50LatencyMs: measured?.p50LatencyMs ?? null,
            p95LatencyMs: measured?.p95LatencyMs ?? null,
            circuit: blockedMs === 0 ? ('closed' as const) : ('open' as const),
            retryInSeconds: blockedMs === 0 ? null : Math.ceil(blockedMs / 1000),
          };
        }),
        healthHours: HEALTH_HOURS,
      };
    },
  );
}
