import { and, asc, eq, or } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { type RateLimitScope, rateLimits } from './schema.js';

export type RateLimitRow = typeof rateLimits.$inferSelect;
export type NewRateLimit = Omit<typeof rateLimits.$inferInsert, 'id' | 'organizationId' | 'createdAt'>;

/** A scope holds at most one rate limit (it carries both the request and the token limit). */
export class DuplicateRateLimitError extends Error {
  constructor(scope: RateLimitScope, scopeId: string) {
    super(`The ${scope} ${scopeId} already has a rate limit; delete it first to change it.`);
    this.name = 'DuplicateRateLimitError';
  }
}

export async function createRateLimit(
  db: Database,
  organizationId: string,
  input: NewRateLimit,
): Promise<RateLimitRow> {
  // Checked before inserting so the caller gets a clear error on PGlite and PostgreSQL alike;
  // the unique index still settles two concurrent creates.
  const [existing] = await db
    .select({ id: rateLimits.id })
    .from(rateLimits)
    .where(
      and(
        eq(rateLimits.organizationId, organizationId),
        eq(rateLimits.scope, input.scope),
        eq(rateLimits.scopeId, input.scopeId),
      ),
    );
  if (existing) throw new DuplicateRateLimitError(input.scope, input.scopeId);
  const [row] = await db
    .insert(rateLimits)
    .values({ ...input, id: newId('rl'), organizationId })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listRateLimits(db: Database, organizationId: string): Promise<RateLimitRow[]> {
  return db
    .select()
    .from(rateLimits)
    .where(eq(rateLimits.organizationId, organizationId))
    .orderBy(asc(rateLimits.createdAt));
}

export async function getRateLimit(
  db: Database,
  organizationId: string,
  id: string,
): Promise<RateLimitRow | undefined> {
  const [row] = await db
    .select()
    .from(rateLimits)
    .where(and(eq(rateLimits.organizationId, organizationId), eq(rateLimits.id, id)));
  return row;
}

export async function deleteRateLimit(db: Database, organizationId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(rateLimits)
    .where(and(eq(rateLimits.organizationId, organizationId), eq(rateLimits.id, id)))
    .returning({ id: rateLimits.id });
  return deleted.length > 0;
}

/** Every rate limit on any of these scopes: what one request must be checked against. */
export async function limitsForScopes(
  db: Database,
  organizationId: string,
  scopes: { scope: RateLimitScope; scopeId: string }[],
): Promise<RateLimitRow[]> {
  if (scopes.length === 0) return [];
  return db
    .select()
    .from(rateLimits)
    .where(
      and(
        eq(rateLimits.organizationId, organizationId),
        or(
          ...scopes.map((entry) =>
            and(eq(rateLimits.scope, entry.scope), eq(rateLimits.scopeId, entry.scopeId)),
          ),
        ),
      ),
    );
}

export async function updateRateLimit(
  db: Database,
  organizationId: string,
  id: string,
  changes: { requestsPerMinute?: number | null | undefined; tokensPerMinute?: number | null | undefined },
): Promise<RateLimitRow | undefined> {
  const set: Partial<typeof rateLimits.$inferInsert> = {};
  if (changes.requestsPerMinute !== undefined) set.requestsPerMinute = changes.requestsPerMinute;
  if (changes.tokensPerMinute !== undefined) set.tokensPerMinute = changes.tokensPerMinute;
  if (Object.keys(set).length === 0) return getRateLimit(db, organizationId, id);
  const [row] = await db
    .update(rateLimits)
    .set(set)
    .where(and(eq(rateLimits.organizationId, organizationId), eq(rateLimits.id, id)))
    .returning();
  return row;
}

/** The rate limit on one scope, if any: what deleting the scope's object would leave dangling. */
export async function rateLimitsReferencing(
  db: Database,
  organizationId: string,
  target: { scope: RateLimitScope; scopeId: string },
): Promise<RateLimitRow[]> {
  return db
    .select()
    .from(rateLimits)
    .where(
      and(
        eq(rateLimits.organizationId, organizationId),
        eq(rateLimits.scope, target.scope),
        eq(rateLimits.scopeId, target.scopeId),
      ),
    );
}
