import { and, asc, eq, gte, or, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { type BudgetScope, budgets, usageEvents } from './schema.js';

export type BudgetRow = typeof budgets.$inferSelect;
export type NewBudget = Omit<
  typeof budgets.$inferInsert,
  'id' | 'organizationId' | 'createdAt' | 'updatedAt'
>;

export async function createBudget(
  db: Database,
  organizationId: string,
  input: NewBudget,
): Promise<BudgetRow> {
  const [row] = await db
    .insert(budgets)
    .values({ ...input, id: newId('bud'), organizationId })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listBudgets(db: Database, organizationId: string): Promise<BudgetRow[]> {
  return db
    .select()
    .from(budgets)
    .where(eq(budgets.organizationId, organizationId))
    .orderBy(asc(budgets.createdAt));
}

export async function getBudget(
  db: Database,
  organizationId: string,
  id: string,
): Promise<BudgetRow | undefined> {
  const [row] = await db
    .select()
    .from(budgets)
    .where(and(eq(budgets.organizationId, organizationId), eq(budgets.id, id)));
  return row;
}

export async function deleteBudget(db: Database, organizationId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(budgets)
    .where(and(eq(budgets.organizationId, organizationId), eq(budgets.id, id)))
    .returning({ id: budgets.id });
  return deleted.length > 0;
}

/** Every budget on any of these scopes: what one request must be checked against. */
export async function budgetsForScopes(
  db: Database,
  organizationId: string,
  scopes: { scope: BudgetScope; scopeId: string }[],
): Promise<BudgetRow[]> {
  if (scopes.length === 0) return [];
  return db
    .select()
    .from(budgets)
    .where(
      and(
        eq(budgets.organizationId, organizationId),
        or(...scopes.map((entry) => and(eq(budgets.scope, entry.scope), eq(budgets.scopeId, entry.scopeId)))),
      ),
    );
}

const scopeColumn = {
  org: usageEvents.organizationId,
  team: usageEvents.teamId,
  project: usageEvents.projectId,
  user: usageEvents.principalId,
  key: usageEvents.keyId,
} as const satisfies Record<BudgetScope, unknown>;

/**
 * What the usage ledger says a budget has spent since its window began: the source of truth
 * the hot state is rebuilt from when it lost its counters (a Redis restart).
 */
export async function ledgerSpend(db: Database, budget: BudgetRow, windowStart: number): Promise<number> {
  const conditions = [
    eq(usageEvents.organizationId, budget.organizationId),
    eq(scopeColumn[budget.scope], budget.scopeId),
    gte(usageEvents.createdAt, new Date(windowStart)),
  ];
  if (budget.providerId) conditions.push(eq(usageEvents.providerId, budget.providerId));
  if (budget.model) conditions.push(eq(usageEvents.model, budget.model));
  const [row] = await db
    .select({ spent: sql<string>`coalesce(sum(${usageEvents.costUsd}), 0)` })
    .from(usageEvents)
    .where(and(...conditions));
  return Number(row?.spent ?? 0);
}

export type BudgetChanges = Partial<
  Pick<NewBudget, 'name' | 'limitUsd' | 'window' | 'action' | 'providerId' | 'model'>
>;

export async function updateBudget(
  db: Database,
  organizationId: string,
  id: string,
  changes: BudgetChanges,
): Promise<BudgetRow | undefined> {
  const set: Partial<typeof budgets.$inferInsert> = { updatedAt: new Date() };
  for (const [column, value] of Object.entries(changes)) {
    if (value !== undefined) Object.assign(set, { [column]: value });
  }
  const [row] = await db
    .update(budgets)
    .set(set)
    .where(and(eq(budgets.organizationId, organizationId), eq(budgets.id, id)))
    .returning();
  return row;
}

/** Budgets that limit this scope, or that count only spend on this provider credential. */
export async function budgetsReferencing(
  db: Database,
  organizationId: string,
  target: { scope: BudgetScope; scopeId: string } | { providerId: string },
): Promise<BudgetRow[]> {
  const matches =
    'providerId' in target
      ? eq(budgets.providerId, target.providerId)
      : and(eq(budgets.scope, target.scope), eq(budgets.scopeId, target.scopeId));
  return db
    .select()
    .from(budgets)
    .where(and(eq(budgets.organizationId, organizationId), matches))
    .orderBy(asc(budgets.createdAt));
}
