import { and, asc, desc, eq, gt, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { Database } from './database.js';
import { newId } from './ids.js';
import { type AuditActorKind, auditChainHeads, auditCheckpoints, auditEvents } from './schema.js';

export type AuditEventRow = typeof auditEvents.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;

/** Stands for "the `after` of the target's latest event" as an event's `before`. */
export const PREVIOUS_AFTER: unique symbol = Symbol('the target’s previous after');

/** An event to append; `before: PREVIOUS_AFTER` takes the `after` of the target's latest event. */
export interface AuditEventInput {
  organizationId: string;
  occurredAt: Date;
  actorKind: AuditActorKind;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** A row's hash from the previous row's and its own content (`control/audit/hash.ts`). */
export type HashRow = (prevHash: string, row: Omit<AuditEventRow, 'prevHash' | 'hash'>) => string;

/**
 * Appends one event to its organisation's chain in one transaction: the head row is locked
 * (SELECT … FOR UPDATE), so concurrent writers on any instance take turns and seq has no gaps.
 * Only the head is updated; the event row is inserted and never touched again.
 */
export async function appendAuditEvent(
  db: Database,
  input: AuditEventInput,
  hashRow: HashRow,
  genesisHash: string,
): Promise<AuditEventRow> {
  return db.transaction(async (tx) => {
    await tx
      .insert(auditChainHeads)
      .values({ organizationId: input.organizationId, lastSeq: 0, lastHash: genesisHash })
      .onConflictDoNothing();
    const [head] = await tx
      .select()
      .from(auditChainHeads)
      .where(eq(auditChainHeads.organizationId, input.organizationId))
      .for('update');
    if (!head) throw new Error('audit chain head missing after creating it');
    let before = input.before;
    if (before === PREVIOUS_AFTER) {
      before = null;
      if (input.targetType !== null && input.targetId !== null) {
        const [previous] = await tx
          .select({ after: auditEvents.after })
          .from(auditEvents)
          .where(
            and(
              eq(auditEvents.organizationId, input.organizationId),
              eq(auditEvents.targetType, input.targetType),
              eq(auditEvents.targetId, input.targetId),
            ),
          )
          .orderBy(desc(auditEvents.seq))
          .limit(1);
        before = previous?.after ?? null;
      }
    }
    const content = { ...input, before, id: newId('aud'), seq: head.lastSeq + 1 };
    const hash = hashRow(head.lastHash, content);
    const [row] = await tx
      .insert(auditEvents)
      .values({ ...content, prevHash: head.lastHash, hash })
      .returning();
    if (!row) throw new Error('insert returned no row');
    await tx
      .update(auditChainHeads)
      .set({ lastSeq: row.seq, lastHash: hash })
      .where(eq(auditChainHeads.organizationId, input.organizationId));
    return row;
  });
}

export interface AuditQuery {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  /** Newest first (the default) or oldest first (what verification reads). */
  order: 'asc' | 'desc';
  /** Only events after this seq in the chosen order (the cursor). */
  afterSeq?: number;
  limit: number;
}

export async function listAuditEvents(
  db: Database,
  organizationId: string,
  query: AuditQuery,
): Promise<AuditEventRow[]> {
  const conditions: SQL[] = [eq(auditEvents.organizationId, organizationId)];
  if (query.action) conditions.push(eq(auditEvents.action, query.action));
  if (query.actorId) conditions.push(eq(auditEvents.actorId, query.actorId));
  if (query.targetType) conditions.push(eq(auditEvents.targetType, query.targetType));
  if (query.targetId) conditions.push(eq(auditEvents.targetId, query.targetId));
  if (query.since) conditions.push(gte(auditEvents.occurredAt, query.since));
  if (query.until) conditions.push(lte(auditEvents.occurredAt, query.until));
  if (query.afterSeq !== undefined) {
    conditions.push(
      query.order === 'asc' ? gt(auditEvents.seq, query.afterSeq) : lt(auditEvents.seq, query.afterSeq),
    );
  }
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(query.order === 'asc' ? asc(auditEvents.seq) : desc(auditEvents.seq))
    .limit(query.limit);
}

export async function auditChainHead(
  db: Database,
  organizationId: string,
): Promise<{ lastSeq: number; lastHash: string } | undefined> {
  const [head] = await db
    .select({ lastSeq: auditChainHeads.lastSeq, lastHash: auditChainHeads.lastHash })
    .from(auditChainHeads)
    .where(eq(auditChainHeads.organizationId, organizationId));
  return head;
}

export async function insertAuditCheckpoint(
  db: Database,
  checkpoint: { organizationId: string; seq: number; hash: string; jws: string },
): Promise<void> {
  // The same seq checkpointed twice (two instances at once) says the same thing: keep one.
  await db.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing();
}

export async function listAuditCheckpoints(
  db: Database,
  organizationId: string,
): Promise<AuditCheckpointRow[]> {
  return db
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.organizationId, organizationId))
    .orderBy(asc(auditCheckpoints.seq));
}

export async function latestAuditCheckpoint(
  db: Database,
  organizationId: string,
): Promise<AuditCheckpointRow | undefined> {
  const [row] = await db
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.organizationId, organizationId))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(1);
  return row;
}
