import { and, asc, eq } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { projects } from './schema.js';

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
