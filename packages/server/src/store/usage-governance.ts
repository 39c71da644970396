import { and, count, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { usageEvents, users, virtualKeys } from './schema.js';

/**
 * The governance home's reads of the usage ledger. Each one starts from the organisation and a
 * time range, so the (organization_id, created_at) index bounds what is read.
 */

/** Total cost of the organisation's calls in [from, to). */
export async function spendBetween(
  db: Database,
  organizationId: string,
  from: Date,
  to: Date,
): Promise<number> {
  const [row] = await db
    .select({ costUsd: sql<string>`coalesce(sum(${usageEvents.costUsd}), 0)` })
    .from(usageEvents)
    .where(
      and(
        eq(usageEvents.organizationId, organizationId),
        gte(usageEvents.createdAt, from),
        lt(usageEvents.createdAt, to),
      ),
    );
  return Number(row?.costUsd ?? 0);
}

/**
 * People (users, not service keys) who made a call since `since`, and how many of them joined
 * the organisation since then. Joining is read from the person's row, not from the whole
 * history of their calls, so the query stays within the window.
 */
export async function activePeopleSince(
  db: Database,
  organizationId: string,
  since: Date,
): Promise<{ active: number; joined: number }> {
  const [row] = await db
    .select({
      active: count(),
      joined: sql<string>`count(*) filter (where ${users.createdAt} >= ${since.toISOString()}::timestamptz)`,
    })
    .from(users)
    .where(
      and(
        eq(users.organizationId, organizationId),
        sql`exists (select 1 from ${usageEvents} where ${usageEvents.organizationId} = ${organizationId} and ${usageEvents.createdAt} >= ${since.toISOString()}::timestamptz and ${usageEvents.principalId} = ${users.id})`,
      ),
    );
  return { active: Number(row?.active ?? 0), joined: Number(row?.joined ?? 0) };
}

export interface TopSpender {
  principalId: string;
  /** The person's name or email; a service key's name. */
  label: string | null;
  kind: 'person' | 'serviceKey';
  costUsd: number;
  requests: number;
  /** The model and the coding tool they called most (by calls), null when none was known. */
  topModel: string | null;
  topTool: string | null;
}

/** Who spent most in [from, to), with the model and tool each used most. */
export async function topSpenders(
  db: Database,
  organizationId: string,
  range: { from: Date; to: Date },
  limit: number,
): Promise<TopSpender[]> {
  const inRange = and(
    eq(usageEvents.organizationId, organizationId),
    gte(usageEvents.createdAt, range.from),
    lt(usageEvents.createdAt, range.to),
  );
  const spenders = await db
    .select({
      principalId: usageEvents.principalId,
      costUsd: sql<string>`sum(${usageEvents.costUsd})`,
      requests: count(),
    })
    .from(usageEvents)
    .where(inRange)
    .groupBy(usageEvents.principalId)
    .orderBy(desc(sql`sum(${usageEvents.costUsd})`), usageEvents.principalId)
    .limit(limit);
  if (spenders.length === 0) return [];
  const ids = spenders.map((spender) => spender.principalId);
  const [byModel, byTool, people, keys] = await Promise.all([
    callsPer(db, and(inRange, inArray(usageEvents.principalId, ids)), usageEvents.model),
    callsPer(db, and(inRange, inArray(usageEvents.principalId, ids)), usageEvents.clientTool),
    db
      .select({ id: users.id, name: users.name, email: users.email })
      .from(users)
      .where(and(eq(users.organizationId, organizationId), inArray(users.id, ids))),
    db
      .select({ id: virtualKeys.id, name: virtualKeys.name })
      .from(virtualKeys)
      .where(and(eq(virtualKeys.organizationId, organizationId), inArray(virtualKeys.id, ids))),
  ]);
  return spenders.map((spender) => {
    const person = people.find((row) => row.id === spender.principalId);
    const key = keys.find((row) => row.id === spender.principalId);
    return {
      principalId: spender.principalId,
      label: person ? (person.name ?? person.email) : (key?.name ?? null),
      kind: person ? 'person' : 'serviceKey',
      costUsd: Number(spender.costUsd),
      requests: Number(spender.requests),
      topModel: byModel.get(spender.principalId) ?? null,
      topTool: byTool.get(spender.principalId) ?? null,
    };
  });
}

/** For each principal, the value of `column` it made most calls with (ties: the first by name). */
async function callsPer(
  db: Database,
  where: ReturnType<typeof and>,
  column: typeof usageEvents.model | typeof usageEvents.clientTool,
): Promise<Map<string, string>> {
  const rows = await db
    .select({ principalId: usageEvents.principalId, value: column, calls: count() })
    .from(usageEvents)
    .where(and(where, sql`${column} is not null`))
    .groupBy(usageEvents.principalId, column)
    .orderBy(usageEvents.principalId, desc(count()), column);
  const most = new Map<string, string>();
  for (const row of rows)
    if (row.value !== null && !most.has(row.principalId)) most.set(row.principalId, row.value);
  return most;
}

export interface CredentialHealth {
  providerId: string;
  /** Tries of this credential: a call that fell back counts once for each credential it tried. */
  attempts: number;
  /** Tries that failed on the credential's side: no answer, 429 or 5xx (a caller's 4xx is not one). */
  failures: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

/**
 * Per credential, from every attempt recorded since `since` (time to the provider's headers, the
 * measure the breaker and fallback act on).
 */
export async function credentialHealthSince(
  db: Database,
  organizationId: string,
  since: Date,
): Promise<CredentialHealth[]> {
  const latency = sql`(attempt->>'latencyMs')::double precision`;
  const status = sql`(attempt->>'status')::int`;
  const result = (await db.execute(sql`
    select attempt->>'providerId' as provider_id,
      count(*) as attempts,
      count(*) filter (where attempt->>'errorCode' is not null or ${status} = 429 or ${status} >= 500) as failures,
      percentile_cont(0.5) within group (order by ${latency}) as p50,
      percentile_cont(0.95) within group (order by ${latency}) as p95
    from ${usageEvents}, jsonb_array_elements(${usageEvents.attempts}) as attempt
    where ${usageEvents.organizationId} = ${organizationId}
      and ${usageEvents.createdAt} >= ${since.toISOString()}::timestamptz
    group by 1`)) as {
    // Both drivers answer a raw query with `{ rows }`; Drizzle's generic result type does not say so.
    rows: {
      provider_id: string;
      attempts: string | number;
      failures: string | number;
      p50: unknown;
      p95: unknown;
    }[];
  };
  return result.rows.map((row) => ({
    providerId: row.provider_id,
    attempts: Number(row.attempts),
    failures: Number(row.failures),
    p50LatencyMs: row.p50 === null ? null : Math.round(Number(row.p50)),
    p95LatencyMs: row.p95 === null ? null : Math.round(Number(row.p95)),
  }));
}
