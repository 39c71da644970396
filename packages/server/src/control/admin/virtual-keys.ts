import { generateVirtualKey, virtualKeyHint } from '@gatehouse/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { getProject } from '../../store/projects.js';
import {
  getVirtualKey,
  insertVirtualKey,
  listVirtualKeys,
  revokeVirtualKey,
  rotateVirtualKey,
  updateVirtualKey,
  type VirtualKeyRow,
} from '../../store/virtual-keys.js';
import { notYours, placesFor, reaches } from './places.js';
import { adminError, errorResponses, notFound, security } from './replies.js';
import {
  createdVirtualKeySchema,
  createVirtualKeyBody,
  idParams,
  listOf,
  listVirtualKeysQuery,
  virtualKeySchema,
} from './schemas.js';
import { updateVirtualKeyBody } from './update-schemas.js';

export interface VirtualKeyRouteOptions {
  db: Database;
  box: SecretBox;
  /** Gateways cache resolved keys: a revocation, rename or new expiry must reach them at once. */
  onPolicyChange(): void;
  now(): Date;
}

/** `/api/admin/virtual-keys`: service keys, shown once; personal keys come from sign-in. */
export function virtualKeyRoutes(parent: FastifyInstance, options: VirtualKeyRouteOptions): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box } = options;
  const expiryIn = (seconds: number) => new Date(options.now().getTime() + seconds * 1000);

  /** The key the route's `:id` names, if it is in the caller's organisation and reach. */
  async function reachableKey(request: FastifyRequest, id: string) {
    const row = await getVirtualKey(db, request.admin.organizationId, id);
    return row && reaches(request, await placesFor(db, request).project(row.projectId)) ? row : undefined;
  }

  app.post(
    '/virtual-keys',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Create a service key (the key is in this response only)',
        security,
        body: createVirtualKeyBody,
        response: { 201: createdVirtualKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const project = await getProject(db, organizationId, request.body.projectId);
      if (!project) {
        return reply
          .code(400)
          .send(adminError('unknown_project', `projectId: no project ${request.body.projectId}.`));
      }
      if (!reaches(request, await placesFor(db, request).project(project.id))) {
        return notYours(reply, 'virtualKeys:manage');
      }
      const key = generateVirtualKey();
      const expiresInSeconds = request.body.expiresInSeconds;
      const row = await insertVirtualKey(db, organizationId, {
        projectId: project.id,
        name: request.body.name,
        kind: 'service',
        keyHash: box.hashVirtualKey(key),
        keyHint: virtualKeyHint(key),
        expiresAt: expiresInSeconds ? expiryIn(expiresInSeconds) : undefined,
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...keyView(row), key });
    },
  );
  app.get(
    '/virtual-keys',
    {
      schema: {
        tags: ['virtual-keys'],
        security,
        querystring: listVirtualKeysQuery,
        response: { 200: listOf(virtualKeySchema), ...errorResponses },
      },
    },
    async (request) => {
      const places = placesFor(db, request);
      const rows = await listVirtualKeys(db, request.admin.organizationId, request.query);
      const reached = await Promise.all(
        rows.map(async (row) => reaches(request, await places.project(row.projectId))),
      );
      return { data: rows.filter((_, index) => reached[index]).map(keyView) };
    },
  );
  app.get(
    '/virtual-keys/:id',
    {
      schema: {
        tags: ['virtual-keys'],
        security,
        params: idParams,
        response: { 200: virtualKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await reachableKey(request, request.params.id);
      return row ? keyView(row) : reply.code(404).send(notFound('virtual key'));
    },
  );
  app.patch(
    '/virtual-keys/:id',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Rename a key or change when it expires',
        security,
        params: idParams,
        body: updateVirtualKeyBody,
        response: { 200: virtualKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await reachableKey(request, request.params.id)))
        return reply.code(404).send(notFound('virtual key'));
      const { name, expiresAt, expiresInSeconds } = request.body;
      const newExpiry =
        expiresInSeconds !== undefined
          ? expiryIn(expiresInSeconds)
          : typeof expiresAt === 'string'
            ? new Date(expiresAt)
            : expiresAt;
      const row = await updateVirtualKey(db, request.admin.organizationId, request.params.id, {
        name,
        expiresAt: newExpiry,
      });
      if (!row) return reply.code(404).send(notFound('virtual key'));
      options.onPolicyChange();
      return keyView(row);
    },
  );
  app.post(
    '/virtual-keys/:id/rotate',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Give a service key a new secret (in this response only); the old one is refused at once',
        description:
          'Same id, project, budgets and usage history. There is no grace period: the old secret ' +
          'stops working with this answer. Personal keys cannot be rotated: their owner signs in again.',
        security,
        params: idParams,
        response: { 200: createdVirtualKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const found = await reachableKey(request, request.params.id);
      if (!found) return reply.code(404).send(notFound('virtual key'));
      const refusal = rotationRefusal(found, options.now());
      if (refusal) return reply.code(409).send(refusal);
      const key = generateVirtualKey();
      const row = await rotateVirtualKey(db, request.admin.organizationId, found.id, {
        keyHash: box.hashVirtualKey(key),
        keyHint: virtualKeyHint(key),
      });
      // The update re-checks that the key is live, so a revocation racing this one wins.
      if (!row) return reply.code(409).send(adminError('key_revoked', 'This key was revoked meanwhile.'));
      // Every gateway caches resolved keys by hash: the old hash must stop resolving everywhere now.
      options.onPolicyChange();
      reply.header('cache-control', 'no-store');
      return { ...keyView(row), key };
    },
  );
  app.delete(
    '/virtual-keys/:id',
    {
      schema: {
        tags: ['virtual-keys'],
        summary: 'Revoke a key; refused from the very next request',
        security,
        params: idParams,
        response: { 200: virtualKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await reachableKey(request, request.params.id)))
        return reply.code(404).send(notFound('virtual key'));
      const row = await revokeVirtualKey(db, request.admin.organizationId, request.params.id, options.now());
      if (!row) return reply.code(404).send(notFound('virtual key'));
      options.onPolicyChange();
      return keyView(row);
    },
  );
}

/**
 * Why a key cannot get a new secret. A personal key is its owner's, minted by their CLI sign-in
 * and refreshed there: an administrator rotating it would hand the person's identity to whoever
 * reads the answer, so it is revoked instead (the person signs in again). A revoked or expired
 * key stays dead: a new secret would not make it usable.
 */
function rotationRefusal(row: VirtualKeyRow, now: Date) {
  if (row.kind === 'personal') {
    return adminError(
      'personal_key',
      'Personal keys belong to a person and are renewed by their CLI sign-in; revoke it instead, and they sign in again.',
    );
  }
  if (row.revokedAt) return adminError('key_revoked', 'This key is revoked; create a new one instead.');
  if (row.expiresAt && row.expiresAt <= now) {
    return adminError(
      'key_expired',
      'This key has expired; extend it with PATCH first, or create a new one.',
    );
  }
  return undefined;
}

function keyView(row: VirtualKeyRow) {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    kind: row.kind,
    userId: row.userId,
    hint: row.keyHint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
