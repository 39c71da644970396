import { and, eq, gt, lt } from 'drizzle-orm';
import type { Database } from './database.js';
import { type SsoProtocol, spentNonces, ssoTransactions } from './schema.js';

export type SsoTransactionRow = typeof ssoTransactions.$inferSelect;

export async function saveSsoTransaction(db: Database, row: SsoTransactionRow): Promise<void> {
  await db.insert(ssoTransactions).values(row);
}

/** Takes a pending sign-in out of the store: each one completes at most once. */
export async function takeSsoTransaction(
  db: Database,
  idHash: string,
  protocol: SsoProtocol,
  now: Date,
): Promise<SsoTransactionRow | undefined> {
  const [row] = await db
    .delete(ssoTransactions)
    .where(
      and(
        eq(ssoTransactions.idHash, idHash),
        eq(ssoTransactions.protocol, protocol),
        gt(ssoTransactions.expiresAt, now),
      ),
    )
    .returning();
  return row;
}

/** Records a one-time value; false when it was already spent (a replay). */
export async function spendNonce(db: Database, nonce: string, expiresAt: Date): Promise<boolean> {
  const inserted = await db
    .insert(spentNonces)
    .values({ nonce, expiresAt })
    .onConflictDoNothing()
    .returning({ nonce: spentNonces.nonce });
  return inserted.length === 1;
}

/** Drops what can no longer be used: expired sign-ins and nonces past their assertion's life. */
export async function pruneSsoState(db: Database, now: Date): Promise<void> {
  await db.delete(ssoTransactions).where(lt(ssoTransactions.expiresAt, now));
  await db.delete(spentNonces).where(lt(spentNonces.expiresAt, now));
}
