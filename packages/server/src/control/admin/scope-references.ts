import type { Database } from '../../store/database.js';
import { getProject } from '../../store/projects.js';
import { getProvider } from '../../store/providers.js';
import type { BudgetScope, RateLimitScope } from '../../store/schema.js';
import { getTeam, getUser } from '../../store/users.js';
import { getVirtualKey } from '../../store/virtual-keys.js';

type Scope = BudgetScope | RateLimitScope;

/**
 * Whether the object a budget or rate limit names exists in the caller's organisation, so a typo
 * is a 400 rather than a limit that silently limits nothing. A user scope is a principal: a
 * person, or for service keys the key itself (what usage records as the principal).
 */
export async function scopeExists(
  db: Database,
  organizationId: string,
  scope: Scope,
  scopeId: string,
): Promise<boolean> {
  switch (scope) {
    case 'org':
      return scopeId === organizationId;
    case 'team':
      return (await getTeam(db, organizationId, scopeId)) !== undefined;
    case 'project':
      return (await getProject(db, organizationId, scopeId)) !== undefined;
    case 'user':
      return (
        (await getUser(db, organizationId, scopeId)) !== undefined ||
        (await getVirtualKey(db, organizationId, scopeId))?.kind === 'service'
      );
    case 'key':
      return (await getVirtualKey(db, organizationId, scopeId)) !== undefined;
    case 'provider':
      return (await getProvider(db, organizationId, scopeId)) !== undefined;
  }
}

export function unknownScopeMessage(scope: Scope, scopeId: string): string {
  return `scopeId: no ${scope === 'org' ? 'organisation' : scope} ${scopeId} in this organisation.`;
}
