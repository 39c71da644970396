import { eq } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { organizations } from './schema.js';

export type Organization = typeof organizations.$inferSelect;

/** The organisation that GATEHOUSE_ADMIN_TOKEN owns; created on first start. */
export async function ensureDefaultOrganization(db: Database): Promise<Organization> {
  await db
    .insert(organizations)
    .values({ id: 'org_default', slug: 'default', name: 'Default organisation' })
    .onConflictDoNothing();
  const [organization] = await db.select().from(organizations).where(eq(organizations.slug, 'default'));
  if (!organization) throw new Error('default organisation is missing after insert');
  return organization;
}

export async function getOrganization(db: Database, id: string): Promise<Organization | undefined> {
  const [organization] = await db.select().from(organizations).where(eq(organizations.id, id));
  return organization;
}

/** A new organisation; undefined when its slug is taken. */
export async function createOrganization(
  db: Database,
  input: { name: string; slug: string },
): Promise<Organization | undefined> {
  const [row] = await db
    .insert(organizations)
    .values({ id: newId('org'), ...input })
    .onConflictDoNothing()
    .returning();
  return row;
}
