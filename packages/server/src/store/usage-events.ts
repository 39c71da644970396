import { and, eq, getTableColumns, gte, lt, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { usageEvents } from './schema.js';

export type UsageEventRow = typeof usageEvents.$inferInsert;

/** Every column but the generated sequence, as [property, SQL column name]. */
const insertedColumns = Object.entries(getTableColumns(usageEvents))
  .filter(([property]) => property !== 'sequence')
  .map(([property, column]) => [property, column.name, column.default] as const);
const columnList = sql.raw(insertedColumns.map(([, name]) => `"${name}"`).join(', '));

/**
 * Appends a batch; a request id already stored is skipped, so a retried flush never double-counts.
 * The batch travels as one JSON parameter expanded by `json_populate_recordset`, rather than as
 * thousands of bound parameters: on embedded PGlite this runs on the gateway's own thread, and the
 * per-parameter work was most of its cost.
 */
export async function insertUsageEvents(db: Database, events: UsageEventRow[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => {
    const row: Record<string, unknown> = {};
    for (const [property, name, fallback] of insertedColumns) {
      // json_populate_recordset yields null for a missing field, so the schema's defaults apply here.
      row[name] = event[property as keyof UsageEventRow] ?? fallback ?? null;
    }
    return row;
  });
  await db.execute(sql`
    insert into ${usageEvents} (${columnList})
    select ${columnList} from json_populate_recordset(null::usage_events, ${JSON.stringify(rows)}::json)
    on conflict (request_id) do nothing`);
}

export const usageGroupings = ['principal', 'project', 'key', 'model'] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

const groupColumn = {
  principal: usageEvents.principalId,
  project: usageEvents.projectId,
  key: usageEvents.keyId,
  model: usageEvents.model,
} as const satisfies Record<UsageGrouping, unknown>;

export interface UsageRow {
  group: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export async function aggregateUsage(
  db: Database,
  organizationId: string,
  query: { groupBy: UsageGrouping; from?: Date | undefined; to?: Date | undefined },
): Promise<UsageRow[]> {
  const column = groupColumn[query.groupBy];
  const conditions = [eq(usageEvents.organizationId, organizationId)];
  if (query.from) conditions.push(gte(usageEvents.createdAt, query.from));
  if (query.to) conditions.push(lt(usageEvents.createdAt, query.to));
  const rows = await db
    .select({
      group: column,
      requests: sql<string>`count(*)`,
      inputTokens: sql<string>`coalesce(sum(${usageEvents.inputTokens}), 0)`,
      outputTokens: sql<string>`coalesce(sum(${usageEvents.outputTokens}), 0)`,
      cacheReadTokens: sql<string>`coalesce(sum(${usageEvents.cacheReadTokens}), 0)`,
      cacheWriteTokens: sql<string>`coalesce(sum(${usageEvents.cacheWriteTokens}), 0)`,
      costUsd: sql<string>`coalesce(sum(${usageEvents.costUsd}), 0)`,
    })
    .from(usageEvents)
    .where(and(...conditions))
    .groupBy(column)
    .orderBy(column);
  // Aggregates come back as strings from both drivers (bigint/numeric); the API promises numbers.
  return rows.map((row) => ({
    group: row.group,
    requests: Number(row.requests),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    cacheReadTokens: Number(row.cacheReadTokens),
    cacheWriteTokens: Number(row.cacheWriteTokens),
    costUsd: Number(row.costUsd),
  }));
}
