import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { managedSettings, projects, teams, users } from './schema.js';
import { assertNameFree } from './unique-names.js';

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

/**
 * Puts people in a team (or none), in the caller's transaction. Their personal projects move
 * with them: team budgets and policies are summed over project.teamId.
 */
export async function moveUsersToTeam(
  db: Database,
  organizationId: string,
  userIds: string[],
  teamId: string | null,
): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .update(users)
    .set({ teamId })
    .where(and(eq(users.organizationId, organizationId), inArray(users.id, userIds)));
  await db
    .update(projects)
    .set({ teamId })
    .where(
      and(
        eq(projects.organizationId, organizationId),
        eq(projects.isPersonal, true),
        inArray(projects.ownerUserId, userIds),
      ),
    );
}

/** Moves one person into a team (or out of any, with null); undefined when there is no such person. */
export async function setUserTeam(
  db: Database,
  organizationId: string,
  userId: string,
  teamId: string | null,
): Promise<UserRow | undefined> {
  return db.transaction(async (tx) => {
    await moveUsersToTeam(tx, organizationId, [userId], teamId);
    return getUser(tx, organizationId, userId);
  });
}

export type TeamRow = typeof teams.$inferSelect;

export async function listTeams(db: Database, organizationId: string): Promise<TeamRow[]> {
  return db.select().from(teams).where(eq(teams.organizationId, organizationId)).orderBy(asc(teams.name));
}

export async function getTeam(
  db: Database,
  organizationId: string,
  id: string,
): Promise<TeamRow | undefined> {
  const [row] = await db
    .select()
    .from(teams)
    .where(and(eq(teams.organizationId, organizationId), eq(teams.id, id)));
  return row;
}

export async function createTeam(db: Database, organizationId: string, name: string): Promise<TeamRow> {
  return db.transaction(async (tx) => {
    await assertNameFree(tx, 'team', organizationId, name);
    const [row] = await tx
      .insert(teams)
      .values({ id: newId('team'), organizationId, name })
      .returning();
    if (!row) throw new Error('insert returned no row');
    return row;
  });
}

export async function renameTeam(
  db: Database,
  organizationId: string,
  id: string,
  name: string,
): Promise<TeamRow | undefined> {
  return db.transaction(async (tx) => {
    await assertNameFree(tx, 'team', organizationId, name, id);
    const [row] = await tx
      .update(teams)
      .set({ name })
      .where(and(eq(teams.organizationId, organizationId), eq(teams.id, id)))
      .returning();
    return row;
  });
}

export async function usersInTeam(db: Database, organizationId: string, teamId: string): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(and(eq(users.organizationId, organizationId), eq(users.teamId, teamId)))
    .orderBy(asc(users.email));
}

/**
 * Deletes a team and the Claude Code settings pushed to it, in the caller's transaction, after
 * the caller made sure nobody and no project is in it.
 */
export async function deleteTeam(tx: Database, organizationId: string, id: string): Promise<boolean> {
  await tx
    .delete(managedSettings)
    .where(and(eq(managedSettings.organizationId, organizationId), eq(managedSettings.teamId, id)));
  const deleted = await tx
    .delete(teams)
    .where(and(eq(teams.organizationId, organizationId), eq(teams.id, id)))
    .returning({ id: teams.id });
  return deleted.length > 0;
}
