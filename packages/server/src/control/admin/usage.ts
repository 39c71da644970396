import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import { aggregateUsage, type UsageFilter, type UsageRow } from '../../store/usage-events.js';
import { bucketCount, MAX_USAGE_BUCKETS, usageSeries } from '../../store/usage-series.js';
import { roundUsd } from './money.js';
import { adminError, errorResponses, security } from './replies.js';
import { usageQuery, usageResponseSchema } from './schemas.js';

const HOUR_MS = 3_600_000;
/** A series with no `from` shows this much before `to`: two days of hours, a month of days. */
const DEFAULT_SERIES_SPAN_MS = { hour: 48 * HOUR_MS, day: 30 * 24 * HOUR_MS } as const;

type UsageQuery = z.infer<typeof usageQuery>;
type UsageReport = z.infer<typeof usageResponseSchema>;

/** The report's answer, or a bad request the caller can fix. */
export type UsageAnswer = { report: UsageReport } | { error: { code: string; message: string } };

/**
 * One report for `/api/admin/usage` and `/api/me/usage`: grouped totals, or with `interval` a
 * time series in the organisation's time zone. `fixed` holds what the caller may not choose
 * (a person's own usage is theirs only).
 */
export async function usageReport(
  db: Database,
  organizationId: string,
  query: Partial<UsageQuery> & Pick<UsageQuery, 'groupBy'>,
  options: { now: Date; fixed?: Partial<UsageFilter> },
): Promise<UsageAnswer> {
  const { from, to, interval, groupBy, ...filter } = query;
  const money = <Row extends UsageRow>(row: Row) => ({ ...row, costUsd: roundUsd(row.costUsd) });
  if (!interval) {
    const rows = await aggregateUsage(db, organizationId, {
      ...filter,
      ...options.fixed,
      groupBy,
      from: from ? new Date(from) : undefined,
      to: to ? new Date(to) : undefined,
    });
    return { report: { groupBy, rows: rows.map(money) } };
  }
  const end = to ? new Date(to) : options.now;
  const start = from ? new Date(from) : new Date(end.getTime() - DEFAULT_SERIES_SPAN_MS[interval]);
  if (start >= end) return { error: { code: 'invalid_range', message: '`from` must be before `to`.' } };
  if (bucketCount(start, end, interval) > MAX_USAGE_BUCKETS) {
    return {
      error: {
        code: 'too_many_buckets',
        message: `That range holds more than ${MAX_USAGE_BUCKETS} ${interval}s; narrow it or use a longer interval.`,
      },
    };
  }
  const timeZone = (await getOrganization(db, organizationId))?.timeZone ?? 'UTC';
  const series = await usageSeries(db, organizationId, {
    ...filter,
    ...options.fixed,
    groupBy,
    interval,
    timeZone,
    from: start,
    to: end,
  });
  return {
    report: {
      groupBy,
      interval,
      buckets: series.buckets.map((bucket) => bucket.toISOString()),
      rows: series.rows.map((row) => ({ ...money(row), bucket: row.bucket.toISOString() })),
    },
  };
}

/** `/api/admin/usage`: calls, tokens and cost from the usage ledger, grouped and filtered. */
export function usageRoutes(parent: FastifyInstance, options: { db: Database; now(): Date }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage and cost, grouped (by model unless groupBy says otherwise), filtered, over time',
        security,
        querystring: usageQuery,
        response: { 200: usageResponseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const answer = await usageReport(options.db, request.admin.organizationId, request.query, {
        now: options.now(),
      });
      if ('error' in answer) return reply.code(400).send(adminError(answer.error.code, answer.error.message));
      return answer.report;
    },
  );
}
