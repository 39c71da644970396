import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { projects, type VirtualKeyKind, virtualKeys } from './schema.js';

export type VirtualKeyRow = typeof virtualKeys.$inferSelect;

export interface NewVirtualKey {
  projectId: string;
  name: string;
  kind: VirtualKeyKind;
  userId?: string | undefined;
  keyHash: string;
  keyHint: string;
  expiresAt?: Date | undefined;
  /** The CLI sign-in a personal key is minted for. */
  grantId?: string | undefined;
}

export async function insertVirtualKey(
  db: Database,
  organizationId: string,
  input: NewVirtualKey,
): Promise<VirtualKeyRow> {
  const [row] = await db
    .insert(virtualKeys)
    .values({
      id: newId('vk'),
      organizationId,
      projectId: input.projectId,
      userId: input.userId ?? null,
      kind: input.kind,
      name: input.name,
      keyHash: input.keyHash,
      keyHint: input.keyHint,
      expiresAt: input.expiresAt ?? null,
      grantId: input.grantId ?? null,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listVirtualKeys(
  db: Database,
  organizationId: string,
  filter: { projectId?: string | undefined; userId?: string | undefined },
): Promise<VirtualKeyRow[]> {
  const conditions = [eq(virtualKeys.organizationId, organizationId)];
  if (filter.projectId) conditions.push(eq(virtualKeys.projectId, filter.projectId));
  if (filter.userId) conditions.push(eq(virtualKeys.userId, filter.userId));
  return db
    .select()
    .from(virtualKeys)
    .where(and(...conditions))
    .orderBy(asc(virtualKeys.createdAt));
}

export async function getVirtualKey(
  db: Database,
  organizationId: string,
  id: string,
): Promise<VirtualKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(virtualKeys)
    .where(and(eq(virtualKeys.organizationId, organizationId), eq(virtualKeys.id, id)));
  return row;
}

/** Marks the key revoked; revoking twice keeps the first time. Returns the key as it now stands. */
export async function revokeVirtualKey(
  db: Database,
  organizationId: string,
  id: string,
  now: Date,
): Promise<VirtualKeyRow | undefined> {
  await db
    .update(virtualKeys)
    .set({ revokedAt: now })
    .where(
      and(
        eq(virtualKeys.organizationId, organizationId),
        eq(virtualKeys.id, id),
        isNull(virtualKeys.revokedAt),
      ),
    );
  return getVirtualKey(db, organizationId, id);
}

/**
 * Gives a live service key a new secret: same row, so its id, project, budgets and usage history
 * stay, and the old hash is gone in the same statement (no window where both work). Undefined
 * when no live service key has that id; the caller reads the row to say why.
 */
export async function rotateVirtualKey(
  db: Database,
  organizationId: string,
  id: string,
  secret: { keyHash: string; keyHint: string },
): Promise<VirtualKeyRow | undefined> {
  const [row] = await db
    .update(virtualKeys)
    .set({ keyHash: secret.keyHash, keyHint: secret.keyHint })
    .where(
      and(
        eq(virtualKeys.organizationId, organizationId),
        eq(virtualKeys.id, id),
        eq(virtualKeys.kind, 'service'),
        isNull(virtualKeys.revokedAt),
      ),
    )
    .returning();
  return row;
}

/** A key with the project it belongs to: what the gateway needs to authorise a request. */
export interface KeyWithProject {
  key: VirtualKeyRow;
  project: typeof projects.$inferSelect;
}

export async function findKeyByHash(db: Database, keyHash: string): Promise<KeyWithProject | undefined> {
  const [row] = await db
    .select({ key: virtualKeys, project: projects })
    .from(virtualKeys)
    .innerJoin(projects, eq(projects.id, virtualKeys.projectId))
    .where(eq(virtualKeys.keyHash, keyHash));
  return row;
}

/** Renames a key or moves its expiry (null: never expires). Undefined when there is no such key. */
export async function updateVirtualKey(
  db: Database,
  organizationId: string,
  id: string,
  changes: { name?: string | undefined; expiresAt?: Date | null | undefined },
): Promise<VirtualKeyRow | undefined> {
  const set: Partial<typeof virtualKeys.$inferInsert> = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.expiresAt !== undefined) set.expiresAt = changes.expiresAt;
  if (Object.keys(set).length === 0) return getVirtualKey(db, organizationId, id);
  const [row] = await db
    .update(virtualKeys)
    .set(set)
    .where(and(eq(virtualKeys.organizationId, organizationId), eq(virtualKeys.id, id)))
    .returning();
  return row;
}

/** The keys a person holds (minted at their sign-ins), newest first. */
export async function keysOfUser(
  db: Database,
  organizationId: string,
  userId: string,
): Promise<VirtualKeyRow[]> {
  return db
    .select()
    .from(virtualKeys)
    .where(and(eq(virtualKeys.organizationId, organizationId), eq(virtualKeys.userId, userId)))
    .orderBy(desc(virtualKeys.createdAt));
}
