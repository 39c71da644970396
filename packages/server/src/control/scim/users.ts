import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../store/database.js';
import {
  getScimUser,
  insertScimUser,
  listScimUsers,
  type ScimUserRow,
  updateScimUser,
} from '../../store/scim.js';
import { revokeAllAccess } from '../personal-access.js';
import { notFound, ScimError } from './errors.js';
import { userQuery } from './filter.js';
import { applyPatch, readPatchRequest } from './patch.js';
import {
  listResponse,
  readPage,
  readUser,
  stringParameter,
  USER_SCHEMA,
  type UserInput,
  userResource,
  userState,
} from './resources.js';

/** What the User and Group routes share: the store, the clock, and who is asking from where. */
export interface ScimContext {
  db: Database;
  onKeysChange(): void;
  now(): Date;
  organizationOf(request: FastifyRequest): string;
  /** `https://host/scim/v2`, for `meta.location`. */
  baseOf(request: FastifyRequest): string;
}

type WithId = { Params: { id: string } };
const hidden = { schema: { hide: true } };

/**
 * `/Users`: people. Deactivating someone (`active: false`, by PUT or PATCH) or deleting them cuts
 * off every key, CLI sign-in and browser session of theirs at once. DELETE keeps the row,
 * deactivated, so their past usage stays attributed and a later re-provisioning finds them again.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-3
 */
export function userRoutes(app: FastifyInstance, context: ScimContext): void {
  const { db } = context;

  const existing = async (request: FastifyRequest<WithId>): Promise<ScimUserRow> => {
    const row = await getScimUser(db, context.organizationOf(request), request.params.id);
    if (!row) throw notFound('user');
    return row;
  };

  /** Every key, CLI sign-in and session of theirs stops working, on every instance, at once. */
  const cutOff = async (organizationId: string, userId: string): Promise<void> => {
    await revokeAllAccess(db, organizationId, userId, context.now());
    context.onKeysChange();
  };

  const save = async (row: ScimUserRow, input: UserInput): Promise<ScimUserRow> => {
    // Disabled first, then revoked: a sign-in or refresh racing this sees the disabled user.
    const disabledAt =
      input.active === undefined ? row.disabledAt : input.active ? null : (row.disabledAt ?? context.now());
    const saved = await updateScimUser(db, row.organizationId, row.id, {
      email: input.email,
      name: input.name,
      externalId: input.externalId,
      disabledAt,
    });
    if (saved === 'conflict') throw taken(input.email);
    if (!saved) throw notFound('user');
    // Reactivating clears disabledAt only: revoked keys stay revoked, the person signs in again.
    if (input.active === false) await cutOff(row.organizationId, row.id);
    return saved;
  };

  app.get('/Users', hidden, async (request) => {
    const query = request.query as Record<string, unknown>;
    const page = readPage(query);
    const filter = userQuery(stringParameter(query, 'filter'));
    const { total, rows } = await listScimUsers(db, context.organizationOf(request), filter, page);
    const base = context.baseOf(request);
    return listResponse(
      rows.map((row) => userResource(row, base)),
      total,
      page.startIndex,
    );
  });

  app.get<WithId>('/Users/:id', hidden, async (request) =>
    userResource(await existing(request), context.baseOf(request)),
  );

  app.post('/Users', hidden, async (request, reply) => {
    const input = readUser(request.body);
    const row = await insertScimUser(db, context.organizationOf(request), {
      email: input.email,
      name: input.name,
      externalId: input.externalId,
      disabledAt: input.active === false ? context.now() : null,
    });
    if (!row) throw taken(input.email);
    const resource = userResource(row, context.baseOf(request));
    return reply
      .code(201)
      .header('location', `${context.baseOf(request)}/Users/${row.id}`)
      .send(resource);
  });

  app.put<WithId>('/Users/:id', hidden, async (request) => {
    const row = await existing(request);
    return userResource(await save(row, readUser(request.body)), context.baseOf(request));
  });

  app.patch<WithId>('/Users/:id', hidden, async (request) => {
    const operations = readPatchRequest(request.body);
    const row = await existing(request);
    const { resource, touched } = applyPatch(userState(row), operations, USER_SCHEMA);
    const input = readUser(resource, touched);
    // Only a PATCH that writes `active` (de)activates; others leave it as it is.
    const saved = await save(row, { ...input, active: touched.has('active') ? input.active : undefined });
    return userResource(saved, context.baseOf(request));
  });

  app.delete<WithId>('/Users/:id', hidden, async (request, reply) => {
    const row = await existing(request);
    await save(row, { email: row.email, name: row.name, externalId: row.externalId, active: false });
    return reply.code(204).send();
  });
}

function taken(email: string): ScimError {
  return new ScimError(409, 'uniqueness', `A user with userName ${email} already exists.`);
}
