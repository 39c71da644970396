import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { usageEvents } from './schema.js';

/** Where the previous page ended: the last event's time and sequence (ties on time are common). */
export interface RecentPosition {
  createdAt: Date;
  sequence: number;
}

export interface RecentRequest {
  sequence: number;
  requestId: string;
  createdAt: Date;
  model: string;
  clientTool: string | null;
  providerType: string | null;
  status: number;
  errorCode: string | null;
  streamed: boolean;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  unpriced: boolean;
  latencyMs: number;
}

/**
 * One principal's calls, newest first, a page at a time. The organisation and time lead the
 * condition so the (organization_id, created_at) index serves it; the principal is a filter.
 */
export async function recentRequestsOf(
  db: Database,
  organizationId: string,
  principalId: string,
  page: { limit: number; before?: RecentPosition | undefined },
): Promise<RecentRequest[]> {
  const conditions = [
    eq(usageEvents.organizationId, organizationId),
    eq(usageEvents.principalId, principalId),
  ];
  if (page.before) {
    conditions.push(
      sql`(${usageEvents.createdAt}, ${usageEvents.sequence}) < (${page.before.createdAt.toISOString()}::timestamptz, ${page.before.sequence})`,
    );
  }
  return db
    .select({
      sequence: usageEvents.sequence,
      requestId: usageEvents.requestId,
      createdAt: usageEvents.createdAt,
      model: usageEvents.model,
      clientTool: usageEvents.clientTool,
      providerType: usageEvents.providerType,
      status: usageEvents.status,
      errorCode: usageEvents.errorCode,
      streamed: usageEvents.streamed,
      inputTokens: usageEvents.inputTokens,
      outputTokens: usageEvents.outputTokens,
      costUsd: usageEvents.costUsd,
      unpriced: usageEvents.unpriced,
      latencyMs: usageEvents.latencyMs,
    })
    .from(usageEvents)
    .where(and(...conditions))
    .orderBy(desc(usageEvents.createdAt), desc(usageEvents.sequence))
    .limit(page.limit);
}
