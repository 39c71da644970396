import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AuditEventRow, listAuditCheckpoints, listAuditEvents } from '../../store/audit.js';
import type { Database } from '../../store/database.js';
import { auditActorKinds } from '../../store/schema.js';
import { adminError, errorResponses, security } from '../admin/replies.js';
import type { AuditTrail } from './trail.js';

export interface AuditRouteOptions {
  db: Database;
  trail: AuditTrail;
  /** Where the checkpoints' signing keys are published (`/.well-known/jwks.json`). */
  jwksUrl: string;
}

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

const auditEventSchema = z
  .object({
    id: z.string(),
    organizationId: z.string(),
    seq: z.number().int().describe('1, 2, 3 … per organisation, without gaps'),
    occurredAt: z.string().describe('ISO 8601 with milliseconds, as hashed'),
    actorKind: z.enum(auditActorKinds),
    actorId: z.string().nullable().describe('Admin token, person or SCIM token id'),
    actorLabel: z.string().nullable(),
    action: z.string().describe('e.g. budgets.update, sign_in.failed, key.mint, user.offboard'),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    before: z.unknown().describe('The target as the previous event left it; secrets redacted'),
    after: z.unknown().describe('The target after the change; secrets redacted'),
    sourceIp: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    prevHash: z.string().describe('The previous event’s hash (64 zeros for the first)'),
    hash: z.string().describe('hex sha256(prevHash + RFC 8785 JSON of the other fields)'),
  })
  .meta({ id: 'AuditEvent' });

const checkpointSchema = z
  .object({
    seq: z.number().int(),
    hash: z.string(),
    jws: z.string().describe('Compact JWS (ES256) over {organization_id, seq, hash}, key in the JWKS'),
    createdAt: z.string(),
  })
  .meta({ id: 'AuditCheckpoint' });

const auditQuery = z
  .object({
    action: z.string().max(200).optional(),
    actorId: z.string().max(200).optional(),
    targetType: z.string().max(200).optional(),
    targetId: z.string().max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    order: z.enum(['desc', 'asc']).default('desc').describe('desc: newest first; asc: oldest first'),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
    cursor: z.string().max(100).optional().describe('nextCursor of the previous page'),
  })
  .strict();

/**
 * `/api/admin/audit`: the organisation's audit log, filtered and paged by an opaque cursor, and
 * its signed checkpoints. The organisation is always the caller's own.
 */
export function auditRoutes(parent: FastifyInstance, options: AuditRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log: every change, sign-in and revocation, hash-chained',
        security,
        querystring: auditQuery,
        response: {
          200: z.object({
            data: z.array(auditEventSchema),
            nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null at the end'),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { cursor, since, until, order, limit, ...filters } = request.query;
      const afterSeq = cursor === undefined ? undefined : seqOfCursor(cursor, order);
      if (afterSeq === null)
        return reply.code(400).send(adminError('invalid_request', 'cursor is not valid'));
      const rows = await listAuditEvents(db, request.admin.organizationId, {
        ...filters,
        since: since === undefined ? undefined : new Date(since),
        until: until === undefined ? undefined : new Date(until),
        order,
        limit,
        afterSeq,
      });
      const last = rows.at(-1);
      return {
        data: rows.map(eventView),
        nextCursor: rows.length === limit && last ? cursorOf(last.seq, order) : null,
      };
    },
  );

  app.get(
    '/audit/checkpoints',
    {
      schema: {
        tags: ['audit'],
        summary: 'Signed checkpoints of the chain head (one is signed now if the head moved)',
        security,
        response: {
          200: z.object({
            data: z.array(checkpointSchema),
            jwksUrl: z.string().describe('The public keys that sign checkpoints'),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { organizationId } = request.admin;
      // Whoever verifies gets a signed statement of the head as it is now.
      await options.trail.checkpoint(organizationId);
      const rows = await listAuditCheckpoints(db, organizationId);
      return {
        data: rows.map((row) => ({
          seq: row.seq,
          hash: row.hash,
          jws: row.jws,
          createdAt: row.createdAt.toISOString(),
        })),
        jwksUrl: options.jwksUrl,
      };
    },
  );
}

function eventView(row: AuditEventRow) {
  return { ...row, occurredAt: row.occurredAt.toISOString() };
}

/** Opaque to callers; inside, the order and the last seq seen, so a cursor cannot change order. */
function cursorOf(seq: number, order: 'asc' | 'desc'): string {
  return Buffer.from(`${order}:${seq}`).toString('base64url');
}

function seqOfCursor(cursor: string, order: 'asc' | 'desc'): number | null {
  const match = /^(asc|desc):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || match[1] !== order) return null;
  return Number(match[2]);
}
