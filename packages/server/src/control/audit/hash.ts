import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEventRow } from '../../store/audit.js';

/**
 * The audit chain's hash recipe, the one place the server writes it down. The CLI's
 * `gatehouse admin audit verify` (`packages/cli/src/commands/admin/audit-chain.ts`) mirrors it
 * line for line, and `test/audit-log.test.ts` runs that verify against this server, so the two
 * cannot drift apart silently.
 *
 *   hash = hex(sha256(prevHash + canonicalJson(content)))
 *
 * `content` is exactly the fields of `AuditContent` below, absent values as `null`, the time as
 * ISO 8601 with milliseconds (what `GET /api/admin/audit` returns); canonical JSON is RFC 8785
 * (the `canonicalize` package). The first row of an organisation has `GENESIS_HASH` as its
 * previous hash.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** An audit row's content: everything but its own `prevHash` and `hash`, its time as ISO 8601. */
export type AuditContent = Omit<AuditEventRow, 'prevHash' | 'hash' | 'occurredAt'> & { occurredAt: string };

export function auditHash(prevHash: string, content: AuditContent): string {
  // Named field by field: a field added to a row later must be added here on purpose.
  const canonical = canonicalize({
    id: content.id,
    organizationId: content.organizationId,
    seq: content.seq,
    occurredAt: content.occurredAt,
    actorKind: content.actorKind,
    actorId: content.actorId,
    actorLabel: content.actorLabel,
    action: content.action,
    targetType: content.targetType,
    targetId: content.targetId,
    before: content.before ?? null,
    after: content.after ?? null,
    sourceIp: content.sourceIp,
    userAgent: content.userAgent,
    requestId: content.requestId,
  });
  if (canonical === undefined) throw new Error('audit content has no JSON form');
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}
