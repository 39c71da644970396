import { and, asc, count, eq, inArray, isNotNull, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { projects, scimTokens, teams, users } from './schema.js';
import { moveUsersToTeam, type UserRow } from './users.js';

/**
 * What SCIM provisioning reads and writes: its bearer tokens, people (users) and groups (teams).
 * A person is in at most one team, and their personal project always sits in the same team,
 * because team budgets and policies are summed over `project.teamId`.
 */

export type ScimTokenRow = typeof scimTokens.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;

export async function insertScimToken(
  db: Database,
  input: { organizationId: string; name: string; tokenHash: string; tokenHint: string },
): Promise<ScimTokenRow> {
  const [row] = await db
    .insert(scimTokens)
    .values({ id: newId('scim'), ...input })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listScimTokens(db: Database, organizationId: string): Promise<ScimTokenRow[]> {
  return db
    .select()
    .from(scimTokens)
    .where(eq(scimTokens.organizationId, organizationId))
    .orderBy(asc(scimTokens.createdAt), asc(scimTokens.id));
}

/** Revokes a token; true when it exists (revoking twice is not an error). */
export async function revokeScimToken(
  db: Database,
  organizationId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const where = and(eq(scimTokens.organizationId, organizationId), eq(scimTokens.id, id));
  const revoked = await db
    .update(scimTokens)
    .set({ revokedAt: now })
    .where(and(where, isNull(scimTokens.revokedAt)))
    .returning({ id: scimTokens.id });
  if (revoked.length > 0) return true;
  const [existing] = await db.select({ id: scimTokens.id }).from(scimTokens).where(where);
  return existing !== undefined;
}

/** The organisation a live (unrevoked) token acts for. */
export async function findLiveScimToken(
  db: Database,
  tokenHash: string,
): Promise<{ id: string; organizationId: string } | undefined> {
  const [row] = await db
    .select({ id: scimTokens.id, organizationId: scimTokens.organizationId })
    .from(scimTokens)
    .where(and(eq(scimTokens.tokenHash, tokenHash), isNull(scimTokens.revokedAt)));
  return row;
}

/** A person with the name of their team, which SCIM shows as their one group. */
export type ScimUserRow = UserRow & { teamName: string | null };

/** One `eq` a SCIM filter asked for, already mapped onto our columns. */
export type UserTerm =
  | { attribute: 'id' | 'email' | 'externalId'; value: string }
  | { attribute: 'active'; value: boolean };

export type TeamTerm = { attribute: 'id' | 'displayName' | 'externalId' | 'member'; value: string };

/** Terms are and-ed; `matchesNothing` short-cuts a filter no row can satisfy. */
export interface Query<Term> {
  terms: Term[];
  matchesNothing: boolean;
}

export interface Page {
  offset: number;
  limit: number;
}

function userCondition(term: UserTerm): SQL {
  switch (term.attribute) {
    case 'id':
      return eq(users.id, term.value);
    case 'email':
      // Stored lower-case; SCIM's userName and emails.value are not case-exact.
      return eq(users.email, term.value.toLowerCase());
    case 'externalId':
      return eq(users.externalId, term.value);
    case 'active':
      return term.value ? isNull(users.disabledAt) : isNotNull(users.disabledAt);
  }
}

const userWithTeam = { user: users, teamName: teams.name };

function withTeam(row: { user: UserRow; teamName: string | null }): ScimUserRow {
  return { ...row.user, teamName: row.teamName };
}

export async function listScimUsers(
  db: Database,
  organizationId: string,
  query: Query<UserTerm>,
  page: Page,
): Promise<{ total: number; rows: ScimUserRow[] }> {
  if (query.matchesNothing) return { total: 0, rows: [] };
  const where = and(eq(users.organizationId, organizationId), ...query.terms.map(userCondition));
  const [counted] = await db.select({ total: count() }).from(users).where(where);
  if (page.limit === 0) return { total: counted?.total ?? 0, rows: [] };
  const rows = await db
    .select(userWithTeam)
    .from(users)
    .leftJoin(teams, eq(teams.id, users.teamId))
    .where(where)
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(page.limit)
    .offset(page.offset);
  return { total: counted?.total ?? 0, rows: rows.map(withTeam) };
}

export async function getScimUser(
  db: Database,
  organizationId: string,
  id: string,
): Promise<ScimUserRow | undefined> {
  const [row] = await db
    .select(userWithTeam)
    .from(users)
    .leftJoin(teams, eq(teams.id, users.teamId))
    .where(and(eq(users.organizationId, organizationId), eq(users.id, id)));
  return row && withTeam(row);
}

export interface ScimUserFields {
  email: string;
  name: string | null;
  externalId: string | null;
  disabledAt: Date | null;
}

/** A new person; undefined when the organisation already has someone with that email. */
export async function insertScimUser(
  db: Database,
  organizationId: string,
  fields: ScimUserFields,
): Promise<ScimUserRow | undefined> {
  const [row] = await db
    .insert(users)
    .values({ id: newId('usr'), organizationId, ...fields })
    .onConflictDoNothing()
    .returning();
  return row && { ...row, teamName: null };
}

/** Replaces what SCIM manages of a person; 'conflict' when the new email is someone else's. */
export async function updateScimUser(
  db: Database,
  organizationId: string,
  id: string,
  fields: ScimUserFields,
): Promise<ScimUserRow | 'conflict' | undefined> {
  const [taken] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.organizationId, organizationId), eq(users.email, fields.email), ne(users.id, id)));
  if (taken) return 'conflict';
  try {
    const [row] = await db
      .update(users)
      .set(fields)
      .where(and(eq(users.organizationId, organizationId), eq(users.id, id)))
      .returning({ id: users.id });
    if (!row) return undefined;
  } catch (error) {
    if (isUniqueViolation(error)) return 'conflict';
    throw error;
  }
  return getScimUser(db, organizationId, id);
}

function teamCondition(organizationId: string, term: TeamTerm): SQL {
  switch (term.attribute) {
    case 'id':
      return eq(teams.id, term.value);
    case 'displayName':
      return sql`lower(${teams.name}) = ${term.value.toLowerCase()}`;
    case 'externalId':
      return eq(teams.externalId, term.value);
    case 'member':
      return sql`exists (select 1 from ${users} where ${users.organizationId} = ${organizationId} and ${users.id} = ${term.value} and ${users.teamId} = ${teams.id})`;
  }
}

export async function listScimTeams(
  db: Database,
  organizationId: string,
  query: Query<TeamTerm>,
  page: Page,
): Promise<{ total: number; rows: TeamRow[] }> {
  if (query.matchesNothing) return { total: 0, rows: [] };
  const where = and(
    eq(teams.organizationId, organizationId),
    ...query.terms.map((term) => teamCondition(organizationId, term)),
  );
  const [counted] = await db.select({ total: count() }).from(teams).where(where);
  if (page.limit === 0) return { total: counted?.total ?? 0, rows: [] };
  const rows = await db
    .select()
    .from(teams)
    .where(where)
    .orderBy(asc(teams.createdAt), asc(teams.id))
    .limit(page.limit)
    .offset(page.offset);
  return { total: counted?.total ?? 0, rows };
}

/** Another team of the organisation with this name, whatever its case. */
export async function findTeamNamed(
  db: Database,
  organizationId: string,
  name: string,
  exceptId?: string,
): Promise<TeamRow | undefined> {
  const [row] = await db
    .select()
    .from(teams)
    .where(
      and(
        eq(teams.organizationId, organizationId),
        sql`lower(${teams.name}) = ${name.toLowerCase()}`,
        exceptId === undefined ? undefined : ne(teams.id, exceptId),
      ),
    );
  return row;
}

export interface TeamMember {
  id: string;
  email: string;
  name: string | null;
}

/** Members of each team asked for, by team id. */
export async function teamMembers(
  db: Database,
  organizationId: string,
  teamIds: string[],
): Promise<Map<string, TeamMember[]>> {
  const members = new Map<string, TeamMember[]>(teamIds.map((id) => [id, []]));
  if (teamIds.length === 0) return members;
  const rows = await db
    .select({ id: users.id, email: users.email, name: users.name, teamId: users.teamId })
    .from(users)
    .where(and(eq(users.organizationId, organizationId), inArray(users.teamId, teamIds)))
    .orderBy(asc(users.email));
  for (const { teamId, ...member } of rows) if (teamId) members.get(teamId)?.push(member);
  return members;
}

/** The ids among `ids` that are no person of this organisation's. */
export async function unknownUserIds(db: Database, organizationId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.organizationId, organizationId), inArray(users.id, ids)));
  const known = new Set(found.map((row) => row.id));
  return ids.filter((id) => !known.has(id));
}

export interface TeamFields {
  name: string;
  externalId: string | null;
}

/** Who a membership change moved: their cached keys carry the old team and must be dropped. */
export interface SavedTeam {
  team: TeamRow;
  movedUsers: number;
}

export async function insertScimTeam(
  db: Database,
  organizationId: string,
  fields: TeamFields,
  memberIds: string[],
): Promise<SavedTeam> {
  return db.transaction(async (tx) => {
    const [team] = await tx
      .insert(teams)
      .values({ id: newId('team'), organizationId, ...fields })
      .returning();
    if (!team) throw new Error('insert returned no row');
    await moveUsersToTeam(tx, organizationId, memberIds, team.id);
    return { team, movedUsers: memberIds.length };
  });
}

/**
 * Renames a team and, when `memberIds` is given, makes exactly those people its members:
 * joiners leave whatever team they were in, leavers end up in none.
 */
export async function updateScimTeam(
  db: Database,
  organizationId: string,
  id: string,
  fields: TeamFields,
  memberIds: string[] | undefined,
): Promise<SavedTeam | undefined> {
  return db.transaction(async (tx) => {
    const [team] = await tx
      .update(teams)
      .set(fields)
      .where(and(eq(teams.organizationId, organizationId), eq(teams.id, id)))
      .returning();
    if (!team || memberIds === undefined) return team && { team, movedUsers: 0 };
    const current = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.organizationId, organizationId), eq(users.teamId, id)));
    const wanted = new Set(memberIds);
    const currentIds = new Set(current.map((row) => row.id));
    const leaving = [...currentIds].filter((userId) => !wanted.has(userId));
    const joining = [...wanted].filter((userId) => !currentIds.has(userId));
    await moveUsersToTeam(tx, organizationId, leaving, null);
    await moveUsersToTeam(tx, organizationId, joining, id);
    return { team, movedUsers: leaving.length + joining.length };
  });
}

/**
 * Deletes a team its identity provider deleted. Members (and their personal projects) leave it
 * first. A shared project an administrator put in the team still points at it, and the
 * foreign key keeps the row: then it stays, memberless and unlinked from the provider's group.
 */
export async function deleteScimTeam(
  db: Database,
  organizationId: string,
  id: string,
): Promise<{ outcome: 'deleted' | 'kept'; movedUsers: number } | undefined> {
  return db.transaction(async (tx) => {
    const [team] = await tx
      .select({ id: teams.id })
      .from(teams)
      .where(and(eq(teams.organizationId, organizationId), eq(teams.id, id)));
    if (!team) return undefined;
    const moved = await tx
      .update(users)
      .set({ teamId: null })
      .where(and(eq(users.organizationId, organizationId), eq(users.teamId, id)))
      .returning({ id: users.id });
    await tx
      .update(projects)
      .set({ teamId: null })
      .where(
        and(
          eq(projects.organizationId, organizationId),
          eq(projects.teamId, id),
          eq(projects.isPersonal, true),
        ),
      );
    const [shared] = await tx
      .select({ total: count() })
      .from(projects)
      .where(and(eq(projects.organizationId, organizationId), eq(projects.teamId, id)));
    if ((shared?.total ?? 0) > 0) {
      await tx.update(teams).set({ externalId: null }).where(eq(teams.id, id));
      return { outcome: 'kept' as const, movedUsers: moved.length };
    }
    await tx.delete(teams).where(eq(teams.id, id));
    return { outcome: 'deleted' as const, movedUsers: moved.length };
  });
}

/** PostgreSQL's unique_violation, wherever the driver or Drizzle wrapped it. */
function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if ((current as { code?: unknown }).code === '23505') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
