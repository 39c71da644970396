import { and, type SQL, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { usageEvents } from './schema.js';
import {
  filterConditions,
  groupColumn,
  type UsageFilter,
  type UsageGrouping,
  type UsageRow,
  usageTotals,
  usageTotalsOf,
} from './usage-events.js';

export const usageIntervals = ['hour', 'day'] as const;
export type UsageInterval = (typeof usageIntervals)[number];

/** More buckets than this is a chart nobody can read, and a query nobody should run by accident. */
export const MAX_USAGE_BUCKETS = 1000;

export interface UsageSeriesRow extends UsageRow {
  /** When the bucket starts: an hour, or a midnight in the organisation's time zone. */
  bucket: Date;
}

export interface UsageSeries {
  /** Every bucket from `from` to `to`, oldest first, those without calls included. */
  buckets: Date[];
  /** One row per bucket and group that had calls; empty buckets have none (see `buckets`). */
  rows: UsageSeriesRow[];
}

export interface UsageSeriesQuery extends UsageFilter {
  from: Date;
  to: Date;
  groupBy: UsageGrouping;
  interval: UsageInterval;
  /** IANA name; buckets start at its midnights (day) or hours (hour), DST included. */
  timeZone: string;
}

/** How many buckets a range spans, roughly (a DST day is 23 or 25 hours): for the size check. */
export function bucketCount(from: Date, to: Date, interval: UsageInterval): number {
  const length = interval === 'day' ? 86_400_000 : 3_600_000;
  return Math.ceil((to.getTime() - from.getTime()) / length);
}

/**
 * Usage per bucket of time and group. Buckets are cut in the organisation's local time
 * (`date_trunc` of the local timestamp, turned back into an instant), so "Monday" is Monday
 * where the organisation is. The filter keeps the (organization_id, created_at) index usable;
 * grouping is by position because the time zone is a bound parameter, and PostgreSQL would not
 * see two bindings of it as one expression.
 */
export async function usageSeries(
  db: Database,
  organizationId: string,
  query: UsageSeriesQuery,
): Promise<UsageSeries> {
  const unit = sql.raw(`'${query.interval}'`);
  const step = sql.raw(`interval '1 ${query.interval}'`);
  const zone = query.timeZone;
  const bucket: SQL<Date> = sql`(date_trunc(${unit}, ${usageEvents.createdAt} at time zone ${zone}) at time zone ${zone})`;
  const column = groupColumn[query.groupBy];
  const rows = await db
    .select({ bucket, group: column, ...usageTotals })
    .from(usageEvents)
    .where(and(...filterConditions(organizationId, query)))
    .groupBy(sql.raw('1'), sql.raw('2'))
    .orderBy(sql.raw('1'), sql.raw('2'));

  const from = query.from.toISOString();
  // The last bucket is the one holding the last instant before the exclusive end.
  const last = new Date(query.to.getTime() - 1).toISOString();
  // Both drivers answer a raw query with `{ rows }`; Drizzle's generic result type does not say so.
  const series = (await db.execute(sql`
    select (local_start at time zone ${zone}) as bucket
    from generate_series(
      date_trunc(${unit}, ${from}::timestamptz at time zone ${zone}),
      ${last}::timestamptz at time zone ${zone},
      ${step}
    ) as local_start
    where ${from}::timestamptz < ${query.to.toISOString()}::timestamptz`)) as {
    rows: { bucket: Date | string }[];
  };
  return {
    buckets: series.rows.map((row) => asDate(row.bucket)),
    rows: rows.map((row) => ({ bucket: asDate(row.bucket), group: row.group, ...usageTotalsOf(row) })),
  };
}

/** node-postgres and PGlite both parse timestamptz, but a raw expression may come back as text. */
function asDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
