import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database } from './database.js';
import { users, virtualKeys } from './schema.js';

export type UserRow = typeof users.$inferSelect;

export async function findUsers(
  db: Database,
  organizationId: string,
  filter: { email?: string | undefined },
): Promise<UserRow[]> {
  const conditions = [eq(users.organizationId, organizationId)];
  // Emails are matched case-insensitively: identity providers disagree on case.
  if (filter.email) conditions.push(eq(users.email, filter.email.toLowerCase()));
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(asc(users.email));
}

export async function getUser(
  db: Database,
  organizationId: string,
  id: string,
): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.organizationId, organizationId), eq(users.id, id)));
  return row;
}

/** Revokes every key the user holds that is not revoked yet; returns how many. */
export async function revokeUserKeys(
  db: Database,
  organizationId: string,
  userId: string,
  now: Date,
): Promise<number> {
  const revoked = await db
    .update(virtualKeys)
    .set({ revokedAt: now })
    .where(
      and(
        eq(virtualKeys.organizationId, organizationId),
        eq(virtualKeys.userId, userId),
        isNull(virtualKeys.revokedAt),
      ),
    )
    .returning({ id: virtualKeys.id });
  return revoked.length;
}
