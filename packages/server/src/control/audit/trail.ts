import type { FastifyRequest } from 'fastify';
import {
  appendAuditEvent,
  auditChainHead,
  insertAuditCheckpoint,
  latestAuditCheckpoint,
  PREVIOUS_AFTER,
} from '../../store/audit.js';
import type { Database } from '../../store/database.js';
import type { AuditActorKind } from '../../store/schema.js';
import type { AdminActor } from '../admin/auth.js';
import { auditHash, GENESIS_HASH } from './hash.js';
import { redact } from './redact.js';

/** Who did it, as the audit log names them. */
export interface AuditActor {
  kind: AuditActorKind;
  id: string | null;
  label: string | null;
}

/** One thing that happened, for `AuditTrail.record`. */
export interface AuditRecord {
  organizationId: string;
  actor: AuditActor;
  /** `budgets.update`, `sign_in.failed`, `key.mint` … */
  action: string;
  target?: { type: string; id: string | null };
  /**
   * The object before the change. Omitted: the `after` of the target's latest audit event
   * (objects are audited from their creation on), or null for a target never seen.
   */
  before?: unknown;
  after?: unknown;
  /** The request it came with: source address, user agent and request id. */
  request?: FastifyRequest;
}

/** Signs a checkpoint of a chain head with the server's published key (a compact JWS). */
export interface CheckpointSigner {
  signCheckpoint(checkpoint: { organizationId: string; seq: number; hash: string }): Promise<string>;
}

export interface AuditTrailOptions {
  db: Database;
  signer: CheckpointSigner;
  now(): Date;
  /** A write that failed: the change stands, the failure must be seen (logged as an error). */
  onError(error: unknown, record: Pick<AuditRecord, 'organizationId' | 'action'>): void;
  /** A signed checkpoint every this many events per organisation. */
  checkpointEvery?: number;
}

const DEFAULT_CHECKPOINT_EVERY = 100;

/**
 * The audit log's one writer. Every record is redacted, hash-chained to its organisation's
 * previous event and written before the request that caused it is answered. Writes for one
 * organisation queue in process, so this process never contends with itself for the chain's
 * head lock; other instances wait on the lock in the database.
 */
export class AuditTrail {
  readonly #options: AuditTrailOptions;
  readonly #checkpointEvery: number;
  /** The tail of each organisation's queue of writes. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: AuditTrailOptions) {
    this.#options = options;
    this.#checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  }

  /** Writes the event; never throws (a failure goes to `onError`). */
  async record(record: AuditRecord): Promise<void> {
    try {
      await this.#queued(record.organizationId, () => this.#append(record));
    } catch (error) {
      this.#options.onError(error, record);
    }
  }

  /**
   * Signs a checkpoint of the organisation's head now, unless the latest one already covers it.
   * Verification asks for this, so the chain it reads ends in a signed head.
   */
  async checkpoint(organizationId: string): Promise<void> {
    await this.#queued(organizationId, async () => {
      const head = await auditChainHead(this.#options.db, organizationId);
      if (!head || head.lastSeq === 0) return;
      const latest = await latestAuditCheckpoint(this.#options.db, organizationId);
      if (latest?.seq === head.lastSeq) return;
      await this.#signAndStore(organizationId, head.lastSeq, head.lastHash);
    });
  }

  async #append(record: AuditRecord): Promise<void> {
    const { db, now } = this.#options;
    const request = record.request;
    const row = await appendAuditEvent(
      db,
      {
        organizationId: record.organizationId,
        occurredAt: now(),
        actorKind: record.actor.kind,
        actorId: record.actor.id,
        actorLabel: record.actor.label,
        action: record.action,
        targetType: record.target?.type ?? null,
        targetId: record.target?.id ?? null,
        // Redacted already, so a previous row's `after` can be reused as it is.
        before: record.before === undefined ? PREVIOUS_AFTER : redact(record.before),
        after: redact(record.after ?? null),
        sourceIp: request?.ip ?? null,
        userAgent: headerOf(request, 'user-agent'),
        requestId: request?.id ?? null,
      },
      (prevHash, content) =>
        auditHash(prevHash, { ...content, occurredAt: content.occurredAt.toISOString() }),
      GENESIS_HASH,
    );
    if (row.seq % this.#checkpointEvery === 0)
      await this.#signAndStore(row.organizationId, row.seq, row.hash);
  }

  async #signAndStore(organizationId: string, seq: number, hash: string): Promise<void> {
    const jws = await this.#options.signer.signCheckpoint({ organizationId, seq, hash });
    await insertAuditCheckpoint(this.#options.db, { organizationId, seq, hash, jws });
  }

  #queued<T>(organizationId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(organizationId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    this.#queues.set(organizationId, tail);
    // Forget an idle organisation's queue, so the map holds only organisations being written.
    tail.then(() => {
      if (this.#queues.get(organizationId) === tail) this.#queues.delete(organizationId);
    });
    return next;
  }
}

/** The admin API's caller as an audit actor. */
export function adminAuditActor(actor: AdminActor): AuditActor {
  switch (actor.kind) {
    case 'bootstrap':
      return { kind: 'bootstrap', id: null, label: 'GATEHOUSE_ADMIN_TOKEN' };
    case 'adminToken':
      return { kind: 'adminToken', id: actor.tokenId, label: actor.name };
    case 'person':
      return { kind: 'person', id: actor.userId, label: actor.email };
  }
}

/** A person acting for themselves (signing in, approving a device). */
export function personActor(user: { id: string; email: string }): AuditActor {
  return { kind: 'person', id: user.id, label: user.email };
}

/** What a write does, by its HTTP method: POST creates, PUT and PATCH update, DELETE deletes. */
export function changeVerbOf(method: string): 'create' | 'update' | 'delete' | undefined {
  if (method === 'POST') return 'create';
  if (method === 'PUT' || method === 'PATCH') return 'update';
  return method === 'DELETE' ? 'delete' : undefined;
}

/** The JSON an onSend hook is about to send, parsed (undefined for an empty or non-JSON answer). */
export function sentBody(payload: unknown): unknown {
  if (typeof payload !== 'string' || payload === '') return undefined;
  try {
    return JSON.parse(payload);
  } catch {
    return undefined;
  }
}

function headerOf(request: FastifyRequest | undefined, name: string): string | null {
  const value = request?.headers[name];
  return typeof value === 'string' ? value.slice(0, 512) : null;
}
