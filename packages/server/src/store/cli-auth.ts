import { and, desc, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import {
  authorizationCodes,
  cliGrants,
  type DeviceAuthorizationState,
  deviceAuthorizations,
  refreshTokens,
  virtualKeys,
} from './schema.js';

export type DeviceAuthorizationRow = typeof deviceAuthorizations.$inferSelect;
export type AuthorizationCodeRow = typeof authorizationCodes.$inferSelect;
export type CliGrantRow = typeof cliGrants.$inferSelect;

export async function insertDeviceAuthorization(
  db: Database,
  input: Omit<typeof deviceAuthorizations.$inferInsert, 'id'>,
): Promise<void> {
  await db.insert(deviceAuthorizations).values({ id: newId('dev'), ...input });
}

export async function findDeviceByUserCode(
  db: Database,
  userCodeHash: string,
): Promise<DeviceAuthorizationRow | undefined> {
  const [row] = await db
    .select()
    .from(deviceAuthorizations)
    .where(eq(deviceAuthorizations.userCodeHash, userCodeHash));
  return row;
}

export async function findDeviceByDeviceCode(
  db: Database,
  deviceCodeHash: string,
): Promise<DeviceAuthorizationRow | undefined> {
  const [row] = await db
    .select()
    .from(deviceAuthorizations)
    .where(eq(deviceAuthorizations.deviceCodeHash, deviceCodeHash));
  return row;
}

/** Moves a pending authorization to approved or denied; false if it was no longer pending. */
export async function decideDevice(
  db: Database,
  id: string,
  decision: { state: 'approved'; organizationId: string; userId: string } | { state: 'denied' },
  now: Date,
): Promise<boolean> {
  const updated = await db
    .update(deviceAuthorizations)
    .set(decision)
    .where(
      and(
        eq(deviceAuthorizations.id, id),
        eq(deviceAuthorizations.state, 'pending'),
        gt(deviceAuthorizations.expiresAt, now),
      ),
    )
    .returning({ id: deviceAuthorizations.id });
  return updated.length === 1;
}

export async function recordDevicePoll(
  db: Database,
  id: string,
  polledAt: Date,
  intervalSeconds: number,
): Promise<void> {
  await db
    .update(deviceAuthorizations)
    .set({ lastPolledAt: polledAt, intervalSeconds })
    .where(eq(deviceAuthorizations.id, id));
}

/** Spends an approved authorization; true for exactly one caller, however many poll at once. */
export async function spendDevice(
  db: Database,
  id: string,
  from: DeviceAuthorizationState,
): Promise<boolean> {
  const updated = await db
    .update(deviceAuthorizations)
    .set({ state: 'spent' })
    .where(and(eq(deviceAuthorizations.id, id), eq(deviceAuthorizations.state, from)))
    .returning({ id: deviceAuthorizations.id });
  return updated.length === 1;
}

export async function insertAuthorizationCode(db: Database, row: AuthorizationCodeRow): Promise<void> {
  await db.insert(authorizationCodes).values(row);
}

/** Takes an unused, unexpired code; each code works once. */
export async function spendAuthorizationCode(
  db: Database,
  codeHash: string,
  now: Date,
): Promise<AuthorizationCodeRow | undefined> {
  const [row] = await db
    .update(authorizationCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(authorizationCodes.codeHash, codeHash),
        isNull(authorizationCodes.usedAt),
        gt(authorizationCodes.expiresAt, now),
      ),
    )
    .returning();
  return row;
}

export async function insertGrant(
  db: Database,
  input: { organizationId: string; userId: string; clientId: string; deviceName: string | null },
): Promise<CliGrantRow> {
  const [row] = await db
    .insert(cliGrants)
    .values({ id: newId('grant'), ...input })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function getGrant(db: Database, id: string): Promise<CliGrantRow | undefined> {
  const [row] = await db.select().from(cliGrants).where(eq(cliGrants.id, id));
  return row;
}

export async function insertRefreshToken(
  db: Database,
  input: { tokenHash: string; grantId: string; expiresAt: Date },
): Promise<void> {
  await db.insert(refreshTokens).values(input);
}

export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export async function findRefreshToken(
  db: Database,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
  return row;
}

/** Spends a refresh token; true for exactly one caller. */
export async function spendRefreshToken(db: Database, tokenHash: string, now: Date): Promise<boolean> {
  const updated = await db
    .update(refreshTokens)
    .set({ spentAt: now })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.spentAt)))
    .returning({ grantId: refreshTokens.grantId });
  return updated.length === 1;
}

/** The grant a CLI-minted key belongs to, found from the key's hash. */
export async function grantOfKey(db: Database, keyHash: string): Promise<string | undefined> {
  const [row] = await db
    .select({ grantId: virtualKeys.grantId })
    .from(virtualKeys)
    .where(eq(virtualKeys.keyHash, keyHash));
  return row?.grantId ?? undefined;
}

/** Drops device authorizations and codes that can no longer be used. */
export async function pruneCliAuth(db: Database, now: Date): Promise<void> {
  await db.delete(deviceAuthorizations).where(lt(deviceAuthorizations.expiresAt, now));
  await db.delete(authorizationCodes).where(lt(authorizationCodes.expiresAt, now));
}

/** A person's CLI sign-ins (their devices), newest first, signed-out ones included. */
export async function grantsOfUser(
  db: Database,
  organizationId: string,
  userId: string,
): Promise<CliGrantRow[]> {
  return db
    .select()
    .from(cliGrants)
    .where(and(eq(cliGrants.organizationId, organizationId), eq(cliGrants.userId, userId)))
    .orderBy(desc(cliGrants.createdAt));
}
