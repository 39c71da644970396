import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../store/database.js';
import {
  type CustomRoleRow,
  deleteCustomRole,
  deleteRoleBinding,
  getCustomRole,
  getRoleBinding,
  insertCustomRole,
  insertRoleBinding,
  listCustomRoles,
  listRoleBindings,
  type RoleBindingRow,
  updateCustomRole,
} from '../../store/roles.js';
import { bindingSubjects } from '../../store/schema.js';
import { getTeam, getUser } from '../../store/users.js';
import { isBuiltInRole, WHOLE_ORGANIZATION } from '../access.js';
import {
  BUILT_IN_ROLE_PERMISSIONS,
  BUILT_IN_ROLES,
  isPermission,
  PERMISSIONS,
  type Permission,
} from '../permissions.js';
import { beyondCaller, grantScopeSchema, grantScopeView, placeOfScope } from './grant-scope.js';
import { adminError, deletedResponse, errorResponses, nameChecked, notFound, security } from './replies.js';
import { idParams, listOf } from './schemas.js';

const errors = { ...errorResponses, 403: errorResponses[400] };

const roleSchema = z
  .object({
    id: z.string().describe("A built-in role's name, or a custom role's id"),
    name: z.string(),
    description: z.string().nullable(),
    builtIn: z.boolean(),
    permissions: z.array(z.enum(PERMISSIONS)),
  })
  .meta({ id: 'Role' });

export const roleBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    description: z.string().trim().max(500).nullable().optional(),
    permissions: z.array(z.enum(PERMISSIONS)).min(1).max(PERMISSIONS.length),
  })
  .strict();

const bindingSchema = z
  .object({
    id: z.string(),
    role: z.string(),
    subject: z.object({ kind: z.enum(bindingSubjects), id: z.string() }),
    scope: grantScopeSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'RoleBinding' });

const bindingBody = z
  .object({
    role: z
      .string()
      .min(1)
      .describe("A built-in role's name (owner, admin, member, viewer, billing) or a custom role's id"),
    subject: z
      .object({
        kind: z.enum(bindingSubjects),
        id: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .describe("A user's id, a team's id (every member, SCIM groups included), or an IdP group's name"),
      })
      .strict(),
    scope: grantScopeSchema
      .optional()
      .describe('Where the role applies; the whole organisation when left out'),
  })
  .strict();

/**
 * `/api/admin/roles` and `/api/admin/role-bindings`: custom roles (named permission sets) beside
 * the built-in ones, and bindings that give a role to a person, a team or an identity-provider
 * group, over the organisation or one team or project. A caller binds only what it holds there.
 */
// Bindings are read on every request (`grantsOfPerson`), so a change needs no announcement.
export function roleRoutes(parent: FastifyInstance, options: { db: Database }): void {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db } = options;

  app.get(
    '/roles',
    {
      schema: {
        tags: ['roles'],
        summary: 'Built-in and custom roles',
        security,
        response: { 200: listOf(roleSchema), ...errors },
      },
    },
    async (request) => ({
      data: [
        ...BUILT_IN_ROLES.map((name) => ({
          id: name,
          name,
          description: null,
          builtIn: true,
          permissions: [...BUILT_IN_ROLE_PERMISSIONS[name]],
        })),
        ...(await listCustomRoles(db, request.admin.organizationId)).map(roleView),
      ],
    }),
  );
  app.post(
    '/roles',
    {
      schema: {
        tags: ['roles'],
        summary: 'Create a custom role',
        security,
        body: roleBody,
        response: { 201: roleSchema, ...errors },
      },
    },
    async (request, reply) => {
      const beyond = beyondCaller(request.admin.access, request.body.permissions, WHOLE_ORGANIZATION);
      if (beyond.length > 0) return reply.code(403).send(cannotGrant(beyond));
      const created = await nameChecked(
        insertCustomRole(db, request.admin.organizationId, {
          name: request.body.name,
          description: request.body.description ?? null,
          permissions: request.body.permissions,
        }),
      );
      if ('conflict' in created) return reply.code(409).send(created.conflict);
      return reply.code(201).send(roleView(created.value));
    },
  );
  app.patch(
    '/roles/:id',
    {
      schema: {
        tags: ['roles'],
        summary: "Change a custom role's name, description or permissions (everyone bound to it follows)",
        security,
        params: idParams,
        body: roleBody.partial(),
        response: { 200: roleSchema, ...errors },
      },
    },
    async (request, reply) => {
      // A role's holders follow its changes: widening it is granting, so the same rule applies.
      const beyond = beyondCaller(request.admin.access, request.body.permissions ?? [], WHOLE_ORGANIZATION);
      if (beyond.length > 0) return reply.code(403).send(cannotGrant(beyond));
      const updated = await nameChecked(
        updateCustomRole(db, request.admin.organizationId, request.params.id, request.body),
      );
      if ('conflict' in updated) return reply.code(409).send(updated.conflict);
      if (!updated.value) return reply.code(404).send(notFound('role'));
      return roleView(updated.value);
    },
  );
  app.delete(
    '/roles/:id',
    {
      schema: {
        tags: ['roles'],
        summary: 'Delete a custom role and its bindings',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errors },
      },
    },
    async (request, reply) => {
      const role = await getCustomRole(db, request.admin.organizationId, request.params.id);
      if (!role) return reply.code(404).send(notFound('role'));
      const beyond = beyondCaller(
        request.admin.access,
        role.permissions.filter(isPermission),
        WHOLE_ORGANIZATION,
      );
      if (beyond.length > 0) return reply.code(403).send(cannotGrant(beyond));
      if (!(await deleteCustomRole(db, request.admin.organizationId, request.params.id))) {
        return reply.code(404).send(notFound('role'));
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/role-bindings',
    {
      schema: {
        tags: ['roles'],
        summary: 'Who holds which role, where',
        security,
        response: { 200: listOf(bindingSchema), ...errors },
      },
    },
    async (request) => ({
      data: (await listRoleBindings(db, request.admin.organizationId)).map(bindingView),
    }),
  );
  app.post(
    '/role-bindings',
    {
      schema: {
        tags: ['roles'],
        summary: 'Give a role to a person, a team or an IdP group',
        security,
        body: bindingBody,
        response: { 201: bindingSchema, ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const { role, subject, scope } = request.body;
      const permissions = await permissionsOfRole(db, organizationId, role);
      if (!permissions)
        return reply
          .code(400)
          .send(adminError('unknown_role', `role: no role ${role} in this organisation.`));
      const subjectFound =
        subject.kind === 'idpGroup' ||
        (subject.kind === 'user'
          ? await getUser(db, organizationId, subject.id)
          : await getTeam(db, organizationId, subject.id));
      if (!subjectFound) {
        return reply
          .code(400)
          .send(
            adminError('unknown_subject', `subject: no ${subject.kind} ${subject.id} in this organisation.`),
          );
      }
      const place = await placeOfScope(db, organizationId, scope);
      if (!place) {
        return reply
          .code(400)
          .send(adminError('unknown_scope', `scope: no ${scope?.kind} ${scope?.id} in this organisation.`));
      }
      const beyond = beyondCaller(request.admin.access, [...permissions], place);
      if (beyond.length > 0) return reply.code(403).send(cannotGrant(beyond));
      const row = await insertRoleBinding(db, organizationId, {
        role,
        subjectKind: subject.kind,
        subjectId: subject.id,
        scope: scope?.kind ?? 'organization',
        scopeId: scope?.id ?? null,
      });
      return reply.code(201).send(bindingView(row));
    },
  );
  app.delete(
    '/role-bindings/:id',
    {
      schema: {
        tags: ['roles'],
        summary: 'Take a role away; the next request of whoever held it is decided without it',
        security,
        params: idParams,
        response: { 204: deletedResponse, ...errors },
      },
    },
    async (request, reply) => {
      const organizationId = request.admin.organizationId;
      const binding = await getRoleBinding(db, organizationId, request.params.id);
      if (!binding) return reply.code(404).send(notFound('role binding'));
      // Taking a role away is as much the holder's business as giving it: an admin cannot
      // demote an owner.
      const permissions =
        (await permissionsOfRole(db, organizationId, binding.role)) ?? new Set<Permission>();
      const place = await placeOfScope(db, organizationId, grantScopeView(binding.scope, binding.scopeId));
      const beyond = beyondCaller(request.admin.access, [...permissions], place ?? WHOLE_ORGANIZATION);
      if (beyond.length > 0) return reply.code(403).send(cannotGrant(beyond));
      if (!(await deleteRoleBinding(db, organizationId, binding.id))) {
        return reply.code(404).send(notFound('role binding'));
      }
      return reply.code(204).send(null);
    },
  );
}

const cannotGrant = (beyond: readonly string[]) =>
  adminError('forbidden', `You cannot grant or take away what you do not hold: ${beyond.join(', ')}.`);

async function permissionsOfRole(
  db: Database,
  organizationId: string,
  role: string,
): Promise<ReadonlySet<Permission> | undefined> {
  if (isBuiltInRole(role)) return BUILT_IN_ROLE_PERMISSIONS[role];
  const custom = await getCustomRole(db, organizationId, role);
  return custom ? new Set(custom.permissions.filter(isPermission)) : undefined;
}

function roleView(row: CustomRoleRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtIn: false,
    permissions: row.permissions.filter(isPermission),
  };
}

function bindingView(row: RoleBindingRow) {
  return {
    id: row.id,
    role: row.role,
    subject: { kind: row.subjectKind, id: row.subjectId },
    scope: grantScopeView(row.scope, row.scopeId),
    createdAt: row.createdAt.toISOString(),
  };
}
