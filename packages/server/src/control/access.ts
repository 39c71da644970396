import type { Database } from '../store/database.js';
import { bindingsReaching, listCustomRoles } from '../store/roles.js';
import type { GrantScope } from '../store/schema.js';
import type { UserRow } from '../store/users.js';
import { BUILT_IN_ROLE_PERMISSIONS, type BuiltInRole, isPermission, type Permission } from './permissions.js';

/** Some permissions, held over the whole organisation or over one team or project in it. */
export interface Grant {
  permissions: ReadonlySet<Permission>;
  scope: GrantScope;
  /** The team or project id; null for the organisation. */
  scopeId: string | null;
}

/** Where an object lives, so a team- or project-scoped grant can tell whether it reaches it. */
export interface Place {
  teamId?: string | null;
  projectId?: string | null;
}

/** Everywhere in the organisation: what an organisation-scoped grant reaches, and only it. */
export const WHOLE_ORGANIZATION: Place = {};

/**
 * What a caller may do, and where. A team grant reaches the team's own objects and those of its
 * projects; a project grant reaches that project's objects. An organisation-wide object (a
 * provider, the organisation's settings, an organisation budget) is reached only by an
 * organisation grant.
 */
export class Access {
  readonly grants: readonly Grant[];
  /** What the caller holds over the whole organisation. */
  readonly everywhere: ReadonlySet<Permission>;

  constructor(grants: readonly Grant[]) {
    this.grants = grants;
    this.everywhere = new Set(
      grants.filter((grant) => grant.scope === 'organization').flatMap((grant) => [...grant.permissions]),
    );
  }

  /** True when some grant, at any scope, holds the permission. */
  holdsSomewhere(permission: Permission): boolean {
    return this.grants.some((grant) => grant.permissions.has(permission));
  }

  /** True when a grant holding the permission reaches an object at `place`. */
  allows(permission: Permission, place: Place): boolean {
    if (this.everywhere.has(permission)) return true;
    return this.grants.some(
      (grant) =>
        grant.permissions.has(permission) &&
        ((grant.scope === 'team' && place.teamId != null && grant.scopeId === place.teamId) ||
          (grant.scope === 'project' && place.projectId != null && grant.scopeId === place.projectId)),
    );
  }
}

export function isBuiltInRole(role: string): role is BuiltInRole {
  return Object.hasOwn(BUILT_IN_ROLE_PERMISSIONS, role);
}

/**
 * A person's grants in their organisation: membership itself (the member role over the
 * organisation) and every binding to them, to their team, or to a group their identity provider
 * named at sign-in. Read on every request, so a binding removed or a group left is gone at once.
 */
export async function grantsOfPerson(db: Database, user: UserRow): Promise<Grant[]> {
  const bindings = await bindingsReaching(db, user.organizationId, {
    userId: user.id,
    teamId: user.teamId,
    idpGroups: user.idpGroups,
  });
  const custom = bindings.some((binding) => !isBuiltInRole(binding.role))
    ? new Map(
        (await listCustomRoles(db, user.organizationId)).map((role) => [
          role.id,
          new Set(role.permissions.filter(isPermission)),
        ]),
      )
    : new Map<string, Set<Permission>>();
  const grants: Grant[] = [
    { permissions: BUILT_IN_ROLE_PERMISSIONS.member, scope: 'organization', scopeId: null },
  ];
  for (const binding of bindings) {
    const permissions = isBuiltInRole(binding.role)
      ? BUILT_IN_ROLE_PERMISSIONS[binding.role]
      : custom.get(binding.role);
    if (permissions) grants.push({ permissions, scope: binding.scope, scopeId: binding.scopeId });
  }
  return grants;
}
