import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  deleteScimTeam,
  findTeamNamed,
  insertScimTeam,
  listScimTeams,
  type TeamRow,
  teamMembers,
  unknownUserIds,
  updateScimTeam,
} from '../../store/scim.js';
import { getTeam } from '../../store/users.js';
import { invalidValue, notFound, ScimError } from './errors.js';
import { groupQuery } from './filter.js';
import { applyPatch, readPatchRequest } from './patch.js';
import {
  excludes,
  GROUP_SCHEMA,
  groupResource,
  groupState,
  listResponse,
  readGroup,
  readPage,
  stringParameter,
} from './resources.js';
import type { ScimContext } from './users.js';

type WithId = { Params: { id: string } };
const hidden = { schema: { hide: true } };

/**
 * `/Groups`: teams. A person is in at most one team, so adding them to a group moves them out
 * of any other; their personal project moves with them, because team budgets and policies are
 * summed over the project's team. Cached keys carry the team, so every move is announced.
 * @see https://www.rfc-editor.org/rfc/rfc7644#section-3
 */
export function groupRoutes(app: FastifyInstance, context: ScimContext): void {
  const { db } = context;

  const existing = async (request: FastifyRequest<WithId>): Promise<TeamRow> => {
    const row = await getTeam(db, context.organizationOf(request), request.params.id);
    if (!row) throw notFound('group');
    return row;
  };

  const withMembers = async (request: FastifyRequest, row: TeamRow) => {
    const members = await teamMembers(db, row.organizationId, [row.id]);
    return groupResource(row, members.get(row.id) ?? [], context.baseOf(request));
  };

  /** Refuses a name another team has, and members who are nobody here. */
  const check = async (organizationId: string, name: string, memberIds: string[], exceptId?: string) => {
    if (await findTeamNamed(db, organizationId, name, exceptId)) {
      throw new ScimError(409, 'uniqueness', `A group named ${name} already exists.`);
    }
    const unknown = await unknownUserIds(db, organizationId, memberIds);
    if (unknown.length > 0) throw invalidValue(`No such user: ${unknown.slice(0, 10).join(', ')}.`);
  };

  const announce = (movedUsers: number) => {
    if (movedUsers > 0) context.onKeysChange();
  };

  app.get('/Groups', hidden, async (request) => {
    const query = request.query as Record<string, unknown>;
    const page = readPage(query);
    const organizationId = context.organizationOf(request);
    const filter = groupQuery(stringParameter(query, 'filter'));
    const { total, rows } = await listScimTeams(db, organizationId, filter, page);
    // Entra ID asks with excludedAttributes=members: large teams are not read at all then.
    const members = excludes(query, 'members')
      ? undefined
      : await teamMembers(
          db,
          organizationId,
          rows.map((row) => row.id),
        );
    const base = context.baseOf(request);
    return listResponse(
      rows.map((row) => groupResource(row, members && (members.get(row.id) ?? []), base)),
      total,
      page.startIndex,
    );
  });

  app.get<WithId>('/Groups/:id', hidden, async (request) => {
    const row = await existing(request);
    if (excludes(request.query as Record<string, unknown>, 'members')) {
      return groupResource(row, undefined, context.baseOf(request));
    }
    return withMembers(request, row);
  });

  app.post('/Groups', hidden, async (request, reply) => {
    const input = readGroup(request.body);
    const organizationId = context.organizationOf(request);
    const memberIds = input.memberIds ?? [];
    await check(organizationId, input.name, memberIds);
    const saved = await insertScimTeam(
      db,
      organizationId,
      { name: input.name, externalId: input.externalId },
      memberIds,
    );
    announce(saved.movedUsers);
    const resource = await withMembers(request, saved.team);
    return reply
      .code(201)
      .header('location', `${context.baseOf(request)}/Groups/${saved.team.id}`)
      .send(resource);
  });

  app.put<WithId>('/Groups/:id', hidden, async (request) => {
    const input = readGroup(request.body);
    const row = await existing(request);
    await check(row.organizationId, input.name, input.memberIds ?? [], row.id);
    // A PUT without `members` keeps them: an omission must not empty a team.
    const saved = await updateScimTeam(
      db,
      row.organizationId,
      row.id,
      { name: input.name, externalId: input.externalId },
      input.memberIds,
    );
    if (!saved) throw notFound('group');
    announce(saved.movedUsers);
    return withMembers(request, saved.team);
  });

  app.patch<WithId>('/Groups/:id', hidden, async (request, reply) => {
    const operations = readPatchRequest(request.body);
    const row = await existing(request);
    const members = (await teamMembers(db, row.organizationId, [row.id])).get(row.id) ?? [];
    const { resource, touched } = applyPatch(groupState(row, members), operations, GROUP_SCHEMA);
    const input = readGroup(resource);
    const memberIds = touched.has('members') ? (input.memberIds ?? []) : undefined;
    const current = new Set(members.map((member) => member.id));
    await check(
      row.organizationId,
      input.name,
      (memberIds ?? []).filter((id) => !current.has(id)),
      row.id,
    );
    const saved = await updateScimTeam(
      db,
      row.organizationId,
      row.id,
      { name: input.name, externalId: input.externalId },
      memberIds,
    );
    if (!saved) throw notFound('group');
    announce(saved.movedUsers);
    // §3.5.2 allows 204; a large team is not read back and sent for every membership change.
    return reply.code(204).send();
  });

  app.delete<WithId>('/Groups/:id', hidden, async (request, reply) => {
    const deleted = await deleteScimTeam(db, context.organizationOf(request), request.params.id);
    if (!deleted) throw notFound('group');
    announce(deleted.movedUsers);
    return reply.code(204).send();
  });
}
