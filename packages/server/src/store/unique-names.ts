import { and, eq, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { customRoles, projects, providerCredentials, routingPolicies, teams } from './schema.js';

/** The objects people tell apart by name, so two of one kind may not share one in an organisation. */
export type NamedKind = 'provider' | 'routing policy' | 'project' | 'team' | 'role';

export class DuplicateNameError extends Error {
  constructor(
    readonly kind: NamedKind,
    readonly existingId: string,
    name: string,
  ) {
    super(`A ${kind} named '${name}' already exists (${existingId}).`);
    this.name = 'DuplicateNameError';
  }
}

const tables = {
  provider: providerCredentials,
  'routing policy': routingPolicies,
  project: projects,
  team: teams,
  role: customRoles,
} as const;

/**
 * Throws DuplicateNameError when another object of this kind already has the name (compared
 * without regard to case). Call it inside the transaction that creates or renames the object: a
 * transaction-scoped advisory lock makes concurrent creates of one kind in one organisation take
 * turns, since the schema has no unique index on names to settle the race.
 */
export async function assertNameFree(
  tx: Database,
  kind: NamedKind,
  organizationId: string,
  name: string,
  exceptId?: string,
): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`names:${kind}:${organizationId}`}))`);
  const table = tables[kind] as typeof teams;
  const conditions: SQL[] = [
    eq(table.organizationId, organizationId),
    sql`lower(${table.name}) = lower(${name})`,
  ];
  if (exceptId !== undefined) conditions.push(ne(table.id, exceptId));
  // Personal projects are named by sign-in after their owner; they do not reserve names.
  if (kind === 'project') conditions.push(eq(projects.isPersonal, false));
  const [existing] = await tx
    .select({ id: table.id })
    .from(table)
    .where(and(...conditions))
    .limit(1);
  if (existing) throw new DuplicateNameError(kind, existing.id, name);
}
