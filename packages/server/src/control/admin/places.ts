import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BudgetRow } from '../../store/budgets.js';
import type { Database } from '../../store/database.js';
import { getProject } from '../../store/projects.js';
import type { BudgetScope } from '../../store/schema.js';
import { getUser } from '../../store/users.js';
import { getVirtualKey } from '../../store/virtual-keys.js';
import { type Place, WHOLE_ORGANIZATION } from '../access.js';
import type { Permission } from '../permissions.js';
import { adminError, notFound } from './replies.js';

/**
 * Where the admin API's objects live, for grants scoped to a team or project. Memoised per
 * request: a list looks each project up once.
 */
export class Places {
  readonly #db: Database;
  readonly #organizationId: string;
  readonly #projects = new Map<string, Promise<Place>>();

  constructor(db: Database, organizationId: string) {
    this.#db = db;
    this.#organizationId = organizationId;
  }

  project(projectId: string): Promise<Place> {
    let place = this.#projects.get(projectId);
    if (!place) {
      place = getProject(this.#db, this.#organizationId, projectId).then((project) => ({
        projectId,
        teamId: project?.teamId ?? null,
      }));
      this.#projects.set(projectId, place);
    }
    return place;
  }

  /** A budget's scope: the organisation, a team, a project, a person (their team), a key (its project). */
  async budgetScope(scope: BudgetScope, scopeId: string): Promise<Place> {
    switch (scope) {
      case 'org':
        return WHOLE_ORGANIZATION;
      case 'team':
        return { teamId: scopeId };
      case 'project':
        return this.project(scopeId);
      case 'user': {
        const user = await getUser(this.#db, this.#organizationId, scopeId);
        return { teamId: user?.teamId ?? null };
      }
      case 'key': {
        const key = await getVirtualKey(this.#db, this.#organizationId, scopeId);
        return key ? this.project(key.projectId) : { projectId: null };
      }
    }
  }

  budget(row: BudgetRow): Promise<Place> {
    return this.budgetScope(row.scope, row.scopeId);
  }
}

/** The request's places, in the caller's organisation. */
export function placesFor(db: Database, request: FastifyRequest): Places {
  return new Places(db, request.admin.organizationId);
}

/** True when the caller's grants reach the place with the route's own permission. */
export function reaches(request: FastifyRequest, place: Place, permission?: Permission): boolean {
  const needed = permission ?? request.routeOptions.config.permission;
  return needed !== undefined && request.admin.access.allows(needed, place);
}

/** Out of the caller's reach: to them the object is not there (an org-wide grant never sees this). */
export function unreachable(reply: FastifyReply, what: string) {
  return reply.code(404).send(notFound(what));
}

/** A create outside the caller's reach: it may not make objects there. */
export function notYours(reply: FastifyReply, permission: Permission) {
  return reply.code(403).send(adminError('forbidden', `Your ${permission} permission does not reach there.`));
}
