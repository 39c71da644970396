import { and, asc, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { projects, virtualKeys } from './schema.js';
import { assertNameFree } from './unique-names.js';

export type ProjectRow = typeof projects.$inferSelect;

export interface NewProject {
  name: string;
  routingPolicyId?: string | undefined;
  teamId?: string | undefined;
  isPersonal?: boolean | undefined;
  ownerUserId?: string | undefined;
}

export async function createProject(
  db: Database,
  organizationId: string,
  input: NewProject,
): Promise<ProjectRow> {
  if (!input.isPersonal) {
    return db.transaction(async (tx) => {
      await assertNameFree(tx as unknown as Database, 'project', organizationId, input.name);
      return insertProject(tx as unknown as Database, organizationId, input);
    });
  }
  return insertProject(db, organizationId, input);
}

async function insertProject(db: Database, organizationId: string, input: NewProject): Promise<ProjectRow> {
  const [row] = await db
    .insert(projects)
    .values({
      id: newId('proj'),
      organizationId,
      name: input.name,
      routingPolicyId: input.routingPolicyId ?? null,
      teamId: input.teamId ?? null,
      isPersonal: input.isPersonal ?? false,
      ownerUserId: input.ownerUserId ?? null,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listProjects(db: Database, organizationId: string): Promise<ProjectRow[]> {
  return db
    .select()
    .from(projects)
    .where(eq(projects.organizationId, organizationId))
    .orderBy(asc(projects.createdAt));
}

export async function getProject(
  db: Database,
  organizationId: string,
  id: string,
): Promise<ProjectRow | undefined> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.organizationId, organizationId), eq(projects.id, id)));
  return row;
}

export interface ProjectChanges {
  name?: string | undefined;
  /** null: inherit the organisation's default policy. */
  routingPolicyId?: string | null | undefined;
  teamId?: string | null | undefined;
}

/** Changes a project in the caller's transaction (a new name is checked there). */
export async function updateProject(
  tx: Database,
  organizationId: string,
  id: string,
  changes: ProjectChanges,
): Promise<ProjectRow | undefined> {
  if (changes.name !== undefined) await assertNameFree(tx, 'project', organizationId, changes.name, id);
  const set: Partial<typeof projects.$inferInsert> = {};
  for (const [column, value] of Object.entries(changes)) {
    if (value !== undefined) Object.assign(set, { [column]: value });
  }
  if (Object.keys(set).length === 0) return getProject(tx, organizationId, id);
  const [row] = await tx
    .update(projects)
    .set(set)
    .where(and(eq(projects.organizationId, organizationId), eq(projects.id, id)))
    .returning();
  return row;
}

/** The keys of a project that still open the gateway: neither revoked nor expired. */
export async function liveKeysOfProject(
  db: Database,
  organizationId: string,
  projectId: string,
  now: Date,
): Promise<{ id: string; name: string }[]> {
  return db
    .select({ id: virtualKeys.id, name: virtualKeys.name })
    .from(virtualKeys)
    .where(
      and(
        eq(virtualKeys.organizationId, organizationId),
        eq(virtualKeys.projectId, projectId),
        isNull(virtualKeys.revokedAt),
        or(isNull(virtualKeys.expiresAt), gt(virtualKeys.expiresAt, now)),
      ),
    )
    .orderBy(asc(virtualKeys.createdAt));
}

/**
 * Deletes a project with its dead keys (revoked or expired), in the caller's transaction, after
 * the caller made sure no live key is left. Usage events keep the key and project ids as text,
 * so the history stays.
 */
export async function deleteProject(
  tx: Database,
  organizationId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  await tx
    .delete(virtualKeys)
    .where(
      and(
        eq(virtualKeys.organizationId, organizationId),
        eq(virtualKeys.projectId, id),
        or(lte(virtualKeys.expiresAt, now), sql`${virtualKeys.revokedAt} is not null`),
      ),
    );
  const deleted = await tx
    .delete(projects)
    .where(and(eq(projects.organizationId, organizationId), eq(projects.id, id)))
    .returning({ id: projects.id });
  return deleted.length > 0;
}

/** Projects routed by a policy: named on their own, or (with `inheriting`) through the default. */
export async function projectsOnPolicy(
  db: Database,
  organizationId: string,
  policy: { id: string; inheriting: boolean },
): Promise<ProjectRow[]> {
  const onPolicy = eq(projects.routingPolicyId, policy.id);
  return db
    .select()
    .from(projects)
    .where(
      and(
        eq(projects.organizationId, organizationId),
        policy.inheriting ? or(onPolicy, isNull(projects.routingPolicyId)) : onPolicy,
      ),
    )
    .orderBy(asc(projects.createdAt));
}

export async function projectsInTeam(
  db: Database,
  organizationId: string,
  teamId: string,
): Promise<ProjectRow[]> {
  return db
    .select()
    .from(projects)
    .where(and(eq(projects.organizationId, organizationId), eq(projects.teamId, teamId)))
    .orderBy(asc(projects.createdAt));
}
