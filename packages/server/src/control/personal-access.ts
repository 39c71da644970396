import { generateVirtualKey, virtualKeyHint } from '@gatehouse/core';
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { SecretBox } from '../security/secret-box.js';
import type { Database } from '../store/database.js';
import { newId } from '../store/ids.js';
import { createProject, type ProjectRow } from '../store/projects.js';
import {
  cliGrants,
  projects,
  refreshTokens,
  sessionMemberships,
  users,
  virtualKeys,
  webSessions,
} from '../store/schema.js';
import type { UserRow } from '../store/users.js';

/**
 * A person's own access: the personal project their keys live in, the short-lived personal keys
 * themselves, and the one call that takes all of it away again.
 */

/**
 * The person's personal project, created on first need. It names no routing policy, so it
 * inherits the organisation's default policy, and sits in the person's team, so team budgets
 * and policies reach it.
 */
export async function ensurePersonalProject(db: Database, user: UserRow): Promise<ProjectRow> {
  const existing = await findPersonalProject(db, user.id);
  if (existing) return existing;
  try {
    return await createProject(db, user.organizationId, {
      name: `${user.name ?? user.email} (personal)`,
      isPersonal: true,
      ownerUserId: user.id,
      teamId: user.teamId ?? undefined,
    });
  } catch (error) {
    // Two first sign-ins raced; the unique index let one win. Use the winner's.
    const winner = await findPersonalProject(db, user.id);
    if (winner) return winner;
    throw error;
  }
}

export async function findPersonalProject(db: Database, userId: string): Promise<ProjectRow | undefined> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.ownerUserId, userId), eq(projects.isPersonal, true)));
  return row;
}

export interface MintedKey {
  key: string;
  keyId: string;
  projectId: string;
  expiresAt: Date;
}

/** The person or the sign-in a key was asked for no longer has access. */
export class AccessEnded extends Error {}

/**
 * A new personal key: the same format, storage and code path as a service key, labelled with
 * the person and (for CLI sign-ins) the grant it belongs to.
 *
 * Minting and `revokeAllAccess` both lock the person's row first, so they never interleave: a
 * key minted while the person is being cut off is either seen and revoked by the cut-off, or
 * refused here because the cut-off came first.
 */
export async function mintPersonalKey(
  db: Database,
  box: SecretBox,
  input: { user: UserRow; ttlSeconds: number; name: string; grantId?: string | undefined; now: Date },
): Promise<MintedKey> {
  const project = await ensurePersonalProject(db, input.user);
  const key = generateVirtualKey();
  const expiresAt = new Date(input.now.getTime() + input.ttlSeconds * 1000);
  const id = newId('vk');
  await db.transaction(async (tx) => {
    const [person] = await tx.select().from(users).where(eq(users.id, input.user.id)).for('update');
    if (!person || person.disabledAt) throw new AccessEnded('the account is deactivated');
    if (input.grantId) {
      const [grant] = await tx.select().from(cliGrants).where(eq(cliGrants.id, input.grantId));
      if (!grant || grant.revokedAt) throw new AccessEnded('the sign-in was ended');
    }
    await tx.insert(virtualKeys).values({
      id,
      organizationId: input.user.organizationId,
      projectId: project.id,
      userId: input.user.id,
      kind: 'personal',
      name: input.name,
      keyHash: box.hashVirtualKey(key),
      keyHint: virtualKeyHint(key),
      expiresAt,
      grantId: input.grantId ?? null,
    });
  });
  return { key, keyId: id, projectId: project.id, expiresAt };
}

export interface RevokedAccess {
  revokedKeys: number;
  revokedGrants: number;
  revokedSessions: number;
}

/**
 * Cuts a person off everywhere at once: every key (personal or not) that names them, every CLI
 * sign-in with its refresh tokens, every browser session. The caller announces the key change
 * so every gateway instance drops its cached copies.
 */
export async function revokeAllAccess(
  db: Database,
  organizationId: string,
  userId: string,
  now: Date,
): Promise<RevokedAccess> {
  return db.transaction(async (tx) => {
    // Serialises with mintPersonalKey: no key can be minted between here and the commit.
    await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
    const keys = await tx
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
    const grants = await tx
      .update(cliGrants)
      .set({ revokedAt: now })
      .where(
        and(
          eq(cliGrants.organizationId, organizationId),
          eq(cliGrants.userId, userId),
          isNull(cliGrants.revokedAt),
        ),
      )
      .returning({ id: cliGrants.id });
    // A browser session signed in to this organisation as them ends, with every other
    // organisation it holds: the browser is theirs.
    const sessions = await tx
      .update(webSessions)
      .set({ revokedAt: now })
      .where(
        and(
          isNull(webSessions.revokedAt),
          or(
            and(eq(webSessions.organizationId, organizationId), eq(webSessions.userId, userId)),
            inArray(
              webSessions.idHash,
              tx
                .select({ idHash: sessionMemberships.sessionIdHash })
                .from(sessionMemberships)
                .where(eq(sessionMemberships.userId, userId)),
            ),
          ),
        ),
      )
      .returning({ idHash: webSessions.idHash });
    return { revokedKeys: keys.length, revokedGrants: grants.length, revokedSessions: sessions.length };
  });
}

/**
 * Signs one CLI sign-in out: its grant, its refresh tokens (unusable once the grant is revoked)
 * and the personal keys minted for it.
 */
export async function revokeGrant(db: Database, grantId: string, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    await tx
      .update(cliGrants)
      .set({ revokedAt: now })
      .where(and(eq(cliGrants.id, grantId), isNull(cliGrants.revokedAt)));
    await tx
      .update(refreshTokens)
      .set({ spentAt: now })
      .where(and(eq(refreshTokens.grantId, grantId), isNull(refreshTokens.spentAt)));
    const keys = await tx
      .update(virtualKeys)
      .set({ revokedAt: now })
      .where(and(eq(virtualKeys.grantId, grantId), isNull(virtualKeys.revokedAt)))
      .returning({ id: virtualKeys.id });
    return keys.length;
  });
}
