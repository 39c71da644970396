import { z } from 'zod';
import type { Database } from '../../store/database.js';
import { getProject } from '../../store/projects.js';
import type { GrantScope } from '../../store/schema.js';
import { getTeam } from '../../store/users.js';
import { type Access, type Place, WHOLE_ORGANIZATION } from '../access.js';
import type { Permission } from '../permissions.js';

/** Where a role binding or an admin token applies, as the API takes and gives it. */
export const grantScopeSchema = z
  .object({
    kind: z.enum(['organization', 'team', 'project']),
    id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("The team's or project's id; none for the organisation"),
  })
  .strict()
  .refine((scope) => (scope.kind === 'organization') === (scope.id === undefined), {
    message: "scope.id names the team or project, and only a 'team' or 'project' scope has one.",
  })
  .meta({ id: 'GrantScope' });

export type GrantScopeInput = z.infer<typeof grantScopeSchema>;

export function grantScopeView(scope: GrantScope, scopeId: string | null): GrantScopeInput {
  return scope === 'organization' ? { kind: scope } : { kind: scope, id: scopeId ?? '' };
}

/** The place a scope covers, or undefined when its team or project is not in the organisation. */
export async function placeOfScope(
  db: Database,
  organizationId: string,
  scope: GrantScopeInput | undefined,
): Promise<Place | undefined> {
  if (!scope || scope.kind === 'organization') return WHOLE_ORGANIZATION;
  const id = scope.id ?? '';
  if (scope.kind === 'team') return (await getTeam(db, organizationId, id)) ? { teamId: id } : undefined;
  const project = await getProject(db, organizationId, id);
  return project ? { projectId: project.id, teamId: project.teamId } : undefined;
}

/**
 * The permissions a caller would hand out beyond what it holds at that place: a caller can only
 * give what it has there itself (a team lead can mint a token for their team, not the company).
 */
export function beyondCaller(access: Access, permissions: readonly Permission[], place: Place): Permission[] {
  const wholeOrganization = place.teamId === undefined && place.projectId === undefined;
  return permissions.filter((permission) =>
    wholeOrganization ? !access.everywhere.has(permission) : !access.allows(permission, place),
  );
}
