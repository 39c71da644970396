import { and, asc, eq, inArray, or } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { type BindingSubject, customRoles, type GrantScope, roleBindings } from './schema.js';
import { assertNameFree } from './unique-names.js';

export type CustomRoleRow = typeof customRoles.$inferSelect;
export type RoleBindingRow = typeof roleBindings.$inferSelect;

export async function listCustomRoles(db: Database, organizationId: string): Promise<CustomRoleRow[]> {
  return db
    .select()
    .from(customRoles)
    .where(eq(customRoles.organizationId, organizationId))
    .orderBy(asc(customRoles.name));
}

export async function getCustomRole(
  db: Database,
  organizationId: string,
  id: string,
): Promise<CustomRoleRow | undefined> {
  const [row] = await db
    .select()
    .from(customRoles)
    .where(and(eq(customRoles.organizationId, organizationId), eq(customRoles.id, id)));
  return row;
}

export async function insertCustomRole(
  db: Database,
  organizationId: string,
  input: { name: string; description: string | null; permissions: string[] },
): Promise<CustomRoleRow> {
  return db.transaction(async (tx) => {
    await assertNameFree(tx, 'role', organizationId, input.name);
    const [row] = await tx
      .insert(customRoles)
      .values({ id: newId('role'), organizationId, ...input })
      .returning();
    if (!row) throw new Error('insert returned no row');
    return row;
  });
}

export async function updateCustomRole(
  db: Database,
  organizationId: string,
  id: string,
  changes: { name?: string; description?: string | null; permissions?: string[] },
): Promise<CustomRoleRow | undefined> {
  if (Object.keys(changes).length === 0) return getCustomRole(db, organizationId, id);
  return db.transaction(async (tx) => {
    if (changes.name !== undefined) await assertNameFree(tx, 'role', organizationId, changes.name, id);
    const [row] = await tx
      .update(customRoles)
      .set(changes)
      .where(and(eq(customRoles.organizationId, organizationId), eq(customRoles.id, id)))
      .returning();
    return row;
  });
}

/** Deletes a custom role and every binding of it, in one transaction. */
export async function deleteCustomRole(db: Database, organizationId: string, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx
      .delete(roleBindings)
      .where(and(eq(roleBindings.organizationId, organizationId), eq(roleBindings.role, id)));
    const deleted = await tx
      .delete(customRoles)
      .where(and(eq(customRoles.organizationId, organizationId), eq(customRoles.id, id)))
      .returning({ id: customRoles.id });
    return deleted.length > 0;
  });
}

export interface NewRoleBinding {
  role: string;
  subjectKind: BindingSubject;
  subjectId: string;
  scope: GrantScope;
  scopeId: string | null;
}

export async function insertRoleBinding(
  db: Database,
  organizationId: string,
  input: NewRoleBinding,
): Promise<RoleBindingRow> {
  const [row] = await db
    .insert(roleBindings)
    .values({ id: newId('rb'), organizationId, ...input })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listRoleBindings(db: Database, organizationId: string): Promise<RoleBindingRow[]> {
  return db
    .select()
    .from(roleBindings)
    .where(eq(roleBindings.organizationId, organizationId))
    .orderBy(asc(roleBindings.createdAt), asc(roleBindings.id));
}

export async function getRoleBinding(
  db: Database,
  organizationId: string,
  id: string,
): Promise<RoleBindingRow | undefined> {
  const [row] = await db
    .select()
    .from(roleBindings)
    .where(and(eq(roleBindings.organizationId, organizationId), eq(roleBindings.id, id)));
  return row;
}

export async function deleteRoleBinding(db: Database, organizationId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(roleBindings)
    .where(and(eq(roleBindings.organizationId, organizationId), eq(roleBindings.id, id)))
    .returning({ id: roleBindings.id });
  return deleted.length > 0;
}

/** The bindings that reach one person: to them, to their team, or to a group their IdP named. */
export async function bindingsReaching(
  db: Database,
  organizationId: string,
  person: { userId: string; teamId: string | null; idpGroups: readonly string[] },
): Promise<RoleBindingRow[]> {
  const subjects = [and(eq(roleBindings.subjectKind, 'user'), eq(roleBindings.subjectId, person.userId))];
  if (person.teamId) {
    subjects.push(and(eq(roleBindings.subjectKind, 'team'), eq(roleBindings.subjectId, person.teamId)));
  }
  if (person.idpGroups.length > 0) {
    subjects.push(
      and(eq(roleBindings.subjectKind, 'idpGroup'), inArray(roleBindings.subjectId, [...person.idpGroups])),
    );
  }
  return db
    .select()
    .from(roleBindings)
    .where(and(eq(roleBindings.organizationId, organizationId), or(...subjects)));
}
