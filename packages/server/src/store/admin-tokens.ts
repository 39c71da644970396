import { and, asc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { adminTokens, type GrantScope } from './schema.js';

export type AdminTokenRow = typeof adminTokens.$inferSelect;

export async function insertAdminToken(
  db: Database,
  input: {
    organizationId: string;
    name: string;
    permissions: string[];
    scope: GrantScope;
    scopeId: string | null;
    tokenHash: string;
    tokenHint: string;
    expiresAt: Date | null;
  },
): Promise<AdminTokenRow> {
  const [row] = await db
    .insert(adminTokens)
    .values({ id: newId('adm'), ...input })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listAdminTokens(db: Database, organizationId: string): Promise<AdminTokenRow[]> {
  return db
    .select()
    .from(adminTokens)
    .where(eq(adminTokens.organizationId, organizationId))
    .orderBy(asc(adminTokens.createdAt), asc(adminTokens.id));
}

/** Revokes a token; true when it exists in the organisation (revoking twice is not an error). */
export async function revokeAdminToken(
  db: Database,
  organizationId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const where = and(eq(adminTokens.organizationId, organizationId), eq(adminTokens.id, id));
  const [row] = await db.select({ revokedAt: adminTokens.revokedAt }).from(adminTokens).where(where);
  if (!row) return false;
  if (!row.revokedAt) await db.update(adminTokens).set({ revokedAt: now }).where(where);
  return true;
}

/** The token with this hash, unless revoked or expired at `now`. */
export async function findLiveAdminToken(
  db: Database,
  tokenHash: string,
  now: Date,
): Promise<AdminTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(adminTokens)
    .where(and(eq(adminTokens.tokenHash, tokenHash), isNull(adminTokens.revokedAt)));
  if (!row || (row.expiresAt && row.expiresAt.getTime() <= now.getTime())) return undefined;
  return row;
}

/**
 * Records a use, at most once per `granularityMs` per token, so a busy automation does not write
 * on every request.
 */
export async function touchAdminToken(
  db: Database,
  id: string,
  now: Date,
  granularityMs: number,
): Promise<void> {
  const staleBefore = new Date(now.getTime() - granularityMs);
  await db
    .update(adminTokens)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(adminTokens.id, id),
        or(isNull(adminTokens.lastUsedAt), lt(adminTokens.lastUsedAt, staleBefore)),
      ),
    );
}
