import { and, eq, getTableColumns, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { usageEvents } from './schema.js';

export type UsageEventRow = typeof usageEvents.$inferInsert;

/** Every column but the generated sequence, as [property, SQL column name, schema default]. */
const insertedColumns = Object.entries(getTableColumns(usageEvents))
  .filter(([property]) => property !== 'sequence')
  .map(([property, column]) => [property, column.name, column.default] as const);
const columnList = sql.raw(insertedColumns.map(([, name]) => `"${name}"`).join(', '));

/**
 * The row a field left out of an insert row takes its value from: every column's schema default,
 * null where it has none. `json_populate_recordset` fills unmatched columns from its first
 * argument, so a row carries only what differs from this.
 */
const defaultRow = JSON.stringify(
  Object.fromEntries(
    insertedColumns.flatMap(([, name, fallback]) => (fallback === undefined ? [] : [[name, fallback]])),
  ),
);

/** Each column as [property, its key in the row's JSON text, its default when a primitive]. */
const serialisedColumns = insertedColumns.map(
  ([property, name, fallback]) =>
    [
      property as keyof UsageEventRow,
      `${JSON.stringify(name)}:`,
      typeof fallback === 'object' ? undefined : fallback,
    ] as const,
);

/**
 * One event as the insert reads it: a JSON object keyed by column name, holding only the fields
 * that are set and differ from the column's default (see {@link defaultRow}). The usage ledger
 * makes this once per event, on the request's path; the same text is the event's write-ahead
 * spool line. Written field by field rather than as a keyed object for `JSON.stringify`: that is
 * half the work, and a row is a third shorter, which the database parses once more.
 */
export function usageRowJson(event: UsageEventRow): string {
  let json = '';
  for (const [property, key, fallback] of serialisedColumns) {
    const value = event[property];
    if (value === undefined || value === null || value === fallback) continue;
    const text = value instanceof Date ? `"${value.toISOString()}"` : JSON.stringify(value);
    json += json === '' ? `{${key}${text}` : `,${key}${text}`;
  }
  return `${json}}`;
}

/**
 * Appends a batch of rows from {@link usageRowJson}; a request id already stored is skipped, so
 * a retried flush never double-counts. The batch travels as one JSON parameter expanded by
 * `json_populate_recordset`, rather than as thousands of bound parameters: on embedded PGlite
 * this runs on the gateway's own thread, and the per-parameter work was most of its cost.
 */
export async function insertUsageRows(db: Database, rows: readonly string[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into ${usageEvents} (${columnList})
    select ${columnList} from json_populate_recordset(
      json_populate_record(null::usage_events, ${defaultRow}::json), ${`[${rows.join(',')}]`}::json)
    on conflict (request_id) do nothing`);
}

export const usageGroupings = ['principal', 'project', 'team', 'key', 'model', 'provider', 'tool'] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

export const groupColumn = {
  principal: usageEvents.principalId,
  project: usageEvents.projectId,
  team: usageEvents.teamId,
  key: usageEvents.keyId,
  model: usageEvents.model,
  provider: usageEvents.providerId,
  tool: usageEvents.clientTool,
} as const satisfies Record<UsageGrouping, unknown>;

/**
 * Gatehouse's own refusals, by the code metered with them (core/errors.ts): a budget (402), a
 * rate limit of ours (429, as opposed to a provider's 429, which has no code), the policy's model
 * rules (403/404), a block budget facing a model without a price.
 */
export const refusalCodes = [
  'budget_exhausted',
  'rate_limited',
  'model_not_allowed',
  'model_not_found',
  'model_unpriced',
] as const;

/** How a call ended: served (2xx, not cut off), refused by Gatehouse, or failed (anything else). */
export const usageOutcomes = ['served', 'refused', 'errors'] as const;
export type UsageOutcome = (typeof usageOutcomes)[number];

const refused = sql`coalesce(${usageEvents.errorCode} in (${sql.join(
  refusalCodes.map((code) => sql`${code}`),
  sql`, `,
)}), false)`;
// A stream the provider broke off answered 200 but was not served.
const served = sql`(${usageEvents.status} between 200 and 299 and ${usageEvents.errorCode} is distinct from 'upstream_failed')`;
const outcomeCondition: Record<UsageOutcome, SQL> = {
  served,
  refused,
  errors: sql`(not ${served} and not ${refused})`,
};

export interface UsageFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  keyId?: string | undefined;
  principalId?: string | undefined;
  projectId?: string | undefined;
  teamId?: string | undefined;
  model?: string | undefined;
  providerId?: string | undefined;
  /** The coding tool (`claude-code`, `codex`, …) that made the calls. */
  tool?: string | undefined;
  status?: UsageOutcome | undefined;
}

export interface UsageRow {
  /** Null when the events have none: no team, no provider (refused before dispatch), no known tool. */
  group: string | null;
  /** Served calls. */
  requests: number;
  refused: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export function filterConditions(organizationId: string, filter: UsageFilter): SQL[] {
  const conditions = [eq(usageEvents.organizationId, organizationId)];
  if (filter.from) conditions.push(gte(usageEvents.createdAt, filter.from));
  if (filter.to) conditions.push(lt(usageEvents.createdAt, filter.to));
  const equalities = [
    [usageEvents.keyId, filter.keyId],
    [usageEvents.principalId, filter.principalId],
    [usageEvents.projectId, filter.projectId],
    [usageEvents.teamId, filter.teamId],
    [usageEvents.model, filter.model],
    [usageEvents.providerId, filter.providerId],
    [usageEvents.clientTool, filter.tool],
  ] as const;
  for (const [column, value] of equalities) if (value !== undefined) conditions.push(eq(column, value));
  if (filter.status) conditions.push(outcomeCondition[filter.status]);
  return conditions;
}

/** The sums every usage row carries, for any grouping. */
export const usageTotals = {
  requests: sql<string>`count(*) filter (where ${outcomeCondition.served})`,
  refused: sql<string>`count(*) filter (where ${outcomeCondition.refused})`,
  errors: sql<string>`count(*) filter (where ${outcomeCondition.errors})`,
  inputTokens: sql<string>`coalesce(sum(${usageEvents.inputTokens}), 0)`,
  outputTokens: sql<string>`coalesce(sum(${usageEvents.outputTokens}), 0)`,
  cacheReadTokens: sql<string>`coalesce(sum(${usageEvents.cacheReadTokens}), 0)`,
  cacheWriteTokens: sql<string>`coalesce(sum(${usageEvents.cacheWriteTokens}), 0)`,
  costUsd: sql<string>`coalesce(sum(${usageEvents.costUsd}), 0)`,
};

type UsageTotals = { [Name in keyof typeof usageTotals]: string };

/** Aggregates come back as strings from both drivers (bigint/numeric); the API promises numbers. */
export function usageTotalsOf(row: UsageTotals): Omit<UsageRow, 'group'> {
  return {
    requests: Number(row.requests),
    refused: Number(row.refused),
    errors: Number(row.errors),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    cacheReadTokens: Number(row.cacheReadTokens),
    cacheWriteTokens: Number(row.cacheWriteTokens),
    costUsd: Number(row.costUsd),
  };
}

export async function aggregateUsage(
  db: Database,
  organizationId: string,
  query: UsageFilter & { groupBy: UsageGrouping },
): Promise<UsageRow[]> {
  const column = groupColumn[query.groupBy];
  const rows = await db
    .select({ group: column, ...usageTotals })
    .from(usageEvents)
    .where(and(...filterConditions(organizationId, query)))
    .groupBy(column)
    .orderBy(column);
  return rows.map((row) => ({ group: row.group, ...usageTotalsOf(row) }));
}
