import { and, asc, eq } from 'drizzle-orm';
import type { SecretBox } from '../security/secret-box.js';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { type PriceOverride, type ProviderType, providerCredentials } from './schema.js';

export type ProviderRow = typeof providerCredentials.$inferSelect;

/**
 * The secret fields of a credential, decrypted only when a gateway needs to call the provider,
 * as its adapter's `credential.secrets` schema names them (API key,
 * AWS keys, a service account key file); the store seals them whole and knows none by name.
 */
export interface ProviderSecret {
  apiKey?: string | undefined;
  [field: string]: string | undefined;
}

export interface NewProvider {
  name: string;
  type: ProviderType;
  baseUrl?: string | undefined;
  secret: ProviderSecret;
  settings?: Record<string, unknown> | undefined;
  forwardIdentity?: boolean | undefined;
  models?: string[] | undefined;
  priceOverrides?: Record<string, PriceOverride> | undefined;
  defaultPrice?: PriceOverride | undefined;
}

export async function createProvider(
  db: Database,
  box: SecretBox,
  organizationId: string,
  input: NewProvider,
): Promise<ProviderRow> {
  const id = newId('prov');
  const [row] = await db
    .insert(providerCredentials)
    .values({
      id,
      organizationId,
      name: input.name,
      type: input.type,
      baseUrl: input.baseUrl ?? null,
      secretCiphertext: Object.values(input.secret).some((value) => value !== undefined)
        ? box.seal(JSON.stringify(input.secret), id)
        : null,
      settings: input.settings ?? {},
      forwardIdentity: input.forwardIdentity ?? false,
      models: input.models ?? null,
      priceOverrides: input.priceOverrides ?? {},
      defaultPrice: input.defaultPrice ?? null,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function listProviders(db: Database, organizationId: string): Promise<ProviderRow[]> {
  return db
    .select()
    .from(providerCredentials)
    .where(eq(providerCredentials.organizationId, organizationId))
    .orderBy(asc(providerCredentials.createdAt));
}

export async function getProvider(
  db: Database,
  organizationId: string,
  id: string,
): Promise<ProviderRow | undefined> {
  const [row] = await db
    .select()
    .from(providerCredentials)
    .where(and(eq(providerCredentials.organizationId, organizationId), eq(providerCredentials.id, id)));
  return row;
}

export async function deleteProvider(db: Database, organizationId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(providerCredentials)
    .where(and(eq(providerCredentials.organizationId, organizationId), eq(providerCredentials.id, id)))
    .returning({ id: providerCredentials.id });
  return deleted.length > 0;
}

export function openProviderSecret(box: SecretBox, row: ProviderRow): ProviderSecret {
  if (!row.secretCiphertext) return {};
  return JSON.parse(box.open(row.secretCiphertext, row.id)) as ProviderSecret;
}

/** What an update may change; the type and the id stay. `secret` replaces the sealed secret whole. */
export interface ProviderChanges {
  name?: string | undefined;
  baseUrl?: string | null | undefined;
  secret?: ProviderSecret | undefined;
  settings?: Record<string, unknown> | undefined;
  forwardIdentity?: boolean | undefined;
  models?: string[] | null | undefined;
  priceOverrides?: Record<string, PriceOverride> | undefined;
  defaultPrice?: PriceOverride | null | undefined;
}

export async function updateProvider(
  db: Database,
  box: SecretBox,
  organizationId: string,
  id: string,
  changes: ProviderChanges,
): Promise<ProviderRow | undefined> {
  const { secret, ...columns } = changes;
  const set: Partial<typeof providerCredentials.$inferInsert> = { updatedAt: new Date() };
  for (const [column, value] of Object.entries(columns)) {
    if (value !== undefined) Object.assign(set, { [column]: value });
  }
  if (secret !== undefined) {
    set.secretCiphertext = Object.values(secret).some((value) => value !== undefined)
      ? box.seal(JSON.stringify(secret), id)
      : null;
  }
  const [row] = await db
    .update(providerCredentials)
    .set(set)
    .where(and(eq(providerCredentials.organizationId, organizationId), eq(providerCredentials.id, id)))
    .returning();
  return row;
}
