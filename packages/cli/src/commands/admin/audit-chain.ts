import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The audit chain's hash recipe as the CLI checks it. It mirrors the server's one place
 * (`packages/server/src/control/audit/hash.ts`) field for field; the server's audit test runs
 * `gatehouse admin audit verify` against a real server, so a drift between the two fails there.
 *
 *   hash = hex(sha256(prevHash + RFC 8785 canonical JSON of the content fields))
 *
 * The first event's previous hash is 64 zeros.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** One event as `GET /api/admin/audit` returns it. */
export interface AuditEvent {
  id: string;
  organizationId: string;
  seq: number;
  occurredAt: string;
  actorKind: string;
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
  prevHash: string;
  hash: string;
}

export function auditHash(prevHash: string, event: AuditEvent): string {
  const canonical = canonicalize({
    id: event.id,
    organizationId: event.organizationId,
    seq: event.seq,
    occurredAt: event.occurredAt,
    actorKind: event.actorKind,
    actorId: event.actorId,
    actorLabel: event.actorLabel,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    before: event.before ?? null,
    after: event.after ?? null,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    requestId: event.requestId,
  });
  return createHash('sha256')
    .update(prevHash)
    .update(canonical ?? '')
    .digest('hex');
}

/** Where a chain first stops holding, and why. */
export interface ChainBreak {
  seq: number;
  id: string | null;
  reason: string;
}

/**
 * Walks events oldest first and remembers where the chain first breaks: a seq out of turn, a
 * previous hash that is not the one before it, or a hash that its content does not give.
 */
export class ChainWalk {
  #expectedSeq = 1;
  #prevHash = GENESIS_HASH;
  readonly #hashes = new Map<number, string>();
  count = 0;
  broken: ChainBreak | undefined;

  /** Hashes of these seqs are kept, for checking the signed checkpoints afterwards. */
  constructor(readonly keep: ReadonlySet<number>) {}

  add(event: AuditEvent): void {
    if (this.broken) return;
    this.count += 1;
    if (event.seq !== this.#expectedSeq) {
      this.broken = {
        seq: this.#expectedSeq,
        id: null,
        reason: `missing (the next event found is #${event.seq}, id ${event.id})`,
      };
      return;
    }
    if (event.prevHash !== this.#prevHash) {
      this.broken = { seq: event.seq, id: event.id, reason: 'previous hash does not match' };
      return;
    }
    if (auditHash(this.#prevHash, event) !== event.hash) {
      this.broken = { seq: event.seq, id: event.id, reason: 'hash does not match' };
      return;
    }
    if (this.keep.has(event.seq)) this.#hashes.set(event.seq, event.hash);
    this.#prevHash = event.hash;
    this.#expectedSeq += 1;
  }

  /** The last seq walked intact. */
  get lastSeq(): number {
    return this.#expectedSeq - 1;
  }

  hashAt(seq: number): string | undefined {
    return this.#hashes.get(seq);
  }
}
