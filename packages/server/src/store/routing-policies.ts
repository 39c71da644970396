import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { providerCredentials, routingPolicies } from './schema.js';
import { assertNameFree } from './unique-names.js';

export type RoutingPolicyRow = typeof routingPolicies.$inferSelect;

export interface NewRoutingPolicy {
  name: string;
  providerIds: string[];
  modelAliases?: Record<string, string> | undefined;
  allowedModels?: string[] | undefined;
  deniedModels?: string[] | undefined;
  isDefault?: boolean | undefined;
}

export class UnknownProvidersError extends Error {
  constructor(readonly providerIds: string[]) {
    super(`unknown provider id(s): ${providerIds.join(', ')}`);
  }
}

export async function createRoutingPolicy(
  db: Database,
  organizationId: string,
  input: NewRoutingPolicy,
): Promise<RoutingPolicyRow> {
  return db.transaction(async (tx) => {
    await assertProvidersExist(tx as unknown as Database, organizationId, input.providerIds);
    await assertNameFree(tx as unknown as Database, 'routing policy', organizationId, input.name);
    if (input.isDefault) {
      // One default per organisation: the new one takes over.
      await tx
        .update(routingPolicies)
        .set({ isDefault: false, updatedAt: new Date() })
        .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.isDefault, true)));
    }
    const [row] = await tx
      .insert(routingPolicies)
      .values({
        id: newId('pol'),
        organizationId,
        name: input.name,
        providerIds: input.providerIds,
        modelAliases: input.modelAliases ?? {},
        allowedModels: input.allowedModels ?? null,
        deniedModels: input.deniedModels ?? [],
        isDefault: input.isDefault ?? false,
      })
      .returning();
    if (!row) throw new Error('insert returned no row');
    return row;
  });
}

async function assertProvidersExist(
  db: Database,
  organizationId: string,
  providerIds: string[],
): Promise<void> {
  if (providerIds.length === 0) return;
  const found = await db
    .select({ id: providerCredentials.id })
    .from(providerCredentials)
    .where(
      and(
        eq(providerCredentials.organizationId, organizationId),
        inArray(providerCredentials.id, providerIds),
      ),
    );
  const known = new Set(found.map((row) => row.id));
  const missing = providerIds.filter((id) => !known.has(id));
  if (missing.length > 0) throw new UnknownProvidersError(missing);
}

export async function listRoutingPolicies(db: Database, organizationId: string): Promise<RoutingPolicyRow[]> {
  return db
    .select()
    .from(routingPolicies)
    .where(eq(routingPolicies.organizationId, organizationId))
    .orderBy(asc(routingPolicies.createdAt));
}

export async function getRoutingPolicy(
  db: Database,
  organizationId: string,
  id: string,
): Promise<RoutingPolicyRow | undefined> {
  const [row] = await db
    .select()
    .from(routingPolicies)
    .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.id, id)));
  return row;
}

export async function getDefaultRoutingPolicy(
  db: Database,
  organizationId: string,
): Promise<RoutingPolicyRow | undefined> {
  const [row] = await db
    .select()
    .from(routingPolicies)
    .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.isDefault, true)));
  return row;
}

export interface RoutingPolicyChanges {
  name?: string | undefined;
  providerIds?: string[] | undefined;
  modelAliases?: Record<string, string> | undefined;
  allowedModels?: string[] | null | undefined;
  deniedModels?: string[] | undefined;
  isDefault?: boolean | undefined;
}

/** Changes a policy in the caller's transaction; made the default, it takes over from the old one. */
export async function updateRoutingPolicy(
  tx: Database,
  organizationId: string,
  id: string,
  changes: RoutingPolicyChanges,
): Promise<RoutingPolicyRow | undefined> {
  if (changes.providerIds) await assertProvidersExist(tx, organizationId, changes.providerIds);
  if (changes.name !== undefined)
    await assertNameFree(tx, 'routing policy', organizationId, changes.name, id);
  if (changes.isDefault) {
    await tx
      .update(routingPolicies)
      .set({ isDefault: false, updatedAt: new Date() })
      .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.isDefault, true)));
  }
  const set: Partial<typeof routingPolicies.$inferInsert> = { updatedAt: new Date() };
  for (const [column, value] of Object.entries(changes)) {
    if (value !== undefined) Object.assign(set, { [column]: value });
  }
  const [row] = await tx
    .update(routingPolicies)
    .set(set)
    .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.id, id)))
    .returning();
  return row;
}

export async function deleteRoutingPolicy(
  db: Database,
  organizationId: string,
  id: string,
): Promise<boolean> {
  const deleted = await db
    .delete(routingPolicies)
    .where(and(eq(routingPolicies.organizationId, organizationId), eq(routingPolicies.id, id)))
    .returning({ id: routingPolicies.id });
  return deleted.length > 0;
}

/** The policies that route to a provider credential: it cannot be deleted while any does. */
export async function policiesUsingProvider(
  db: Database,
  organizationId: string,
  providerId: string,
): Promise<RoutingPolicyRow[]> {
  return db
    .select()
    .from(routingPolicies)
    .where(
      and(
        eq(routingPolicies.organizationId, organizationId),
        sql`${routingPolicies.providerIds} @> ${JSON.stringify([providerId])}::jsonb`,
      ),
    )
    .orderBy(asc(routingPolicies.createdAt));
}
