import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { providerCredentials, routingPolicies } from './schema.js';

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
