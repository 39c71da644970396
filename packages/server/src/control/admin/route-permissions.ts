import type { Permission } from '../permissions.js';

/**
 * The admin API's route table: the one place each route says what it needs. The admin plugin
 * refuses to start with a route missing here (`permissionForRoute`), so a new route can never be
 * open by default, and checks the caller's permissions before any handler or body validation.
 * Keys are `METHOD path` as registered under `/api/admin`.
 */
export const ADMIN_ROUTE_PERMISSIONS = {
  'GET /organization': 'organization:view',
  'PATCH /organization': 'organization:manage',

  'POST /providers': 'providers:manage',
  'GET /providers': 'providers:view',
  'GET /providers/:id': 'providers:view',
  'PATCH /providers/:id': 'providers:manage',
  'DELETE /providers/:id': 'providers:manage',
  // One real request with the stored secret: as much a use of the credential as changing it.
  'POST /providers/:id/test': 'providers:manage',
  'GET /provider-types': 'providers:view',

  'POST /routing-policies': 'routingPolicies:manage',
  'GET /routing-policies': 'routingPolicies:view',
  'GET /routing-policies/:id': 'routingPolicies:view',
  'PATCH /routing-policies/:id': 'routingPolicies:manage',
  'DELETE /routing-policies/:id': 'routingPolicies:manage',
  'GET /routing-policies/preview': 'routingPolicies:view',

  // Projects are the organisation's own structure: who may reshape it may add them.
  'POST /projects': 'organization:manage',
  'GET /projects': 'organization:view',
  'GET /projects/:id': 'organization:view',
  'PATCH /projects/:id': 'organization:manage',
  'DELETE /projects/:id': 'organization:manage',

  'POST /virtual-keys': 'virtualKeys:manage',
  'GET /virtual-keys': 'virtualKeys:view',
  'GET /virtual-keys/:id': 'virtualKeys:view',
  'PATCH /virtual-keys/:id': 'virtualKeys:manage',
  'DELETE /virtual-keys/:id': 'virtualKeys:manage',
  'POST /virtual-keys/:id/rotate': 'virtualKeys:manage',

  'POST /budgets': 'budgets:manage',
  'GET /budgets': 'budgets:view',
  'GET /budgets/:id': 'budgets:view',
  'PATCH /budgets/:id': 'budgets:manage',
  'DELETE /budgets/:id': 'budgets:manage',

  'POST /rate-limits': 'rateLimits:manage',
  'GET /rate-limits': 'rateLimits:view',
  'GET /rate-limits/:id': 'rateLimits:view',
  'PATCH /rate-limits/:id': 'rateLimits:manage',
  'DELETE /rate-limits/:id': 'rateLimits:manage',

  'GET /usage': 'usage:view',
  'GET /governance/summary': 'governance:view',

  'GET /users': 'users:view',
  'PATCH /users/:id': 'users:manage',
  'POST /users/:id/revoke-access': 'users:manage',

  'GET /teams': 'teams:view',
  'POST /teams': 'teams:manage',
  'PATCH /teams/:id': 'teams:manage',
  'DELETE /teams/:id': 'teams:manage',

  // Which Claude Code settings every engineer's tool is handed is tool governance.
  'GET /claude-code-settings': 'governance:view',
  'PUT /claude-code-settings': 'governance:manage',

  // SSO settings name the identity provider's clients; reading them is managing them.
  'GET /sso': 'sso:manage',
  'PUT /sso/oidc': 'sso:manage',
  'PUT /sso/saml': 'sso:manage',
  'DELETE /sso/:protocol': 'sso:manage',
  'POST /scim-tokens': 'sso:manage',
  'GET /scim-tokens': 'sso:manage',
  'DELETE /scim-tokens/:id': 'sso:manage',

  'GET /roles': 'roles:manage',
  'POST /roles': 'roles:manage',
  'PATCH /roles/:id': 'roles:manage',
  'DELETE /roles/:id': 'roles:manage',
  'GET /role-bindings': 'roles:manage',
  'POST /role-bindings': 'roles:manage',
  'DELETE /role-bindings/:id': 'roles:manage',

  // Organisations other than one's own are the deployment's: only the bootstrap token makes them.
  'POST /organizations': 'organizations:create',

  'POST /tokens': 'adminTokens:manage',
  'GET /tokens': 'adminTokens:manage',
  'DELETE /tokens/:id': 'adminTokens:manage',

  // Reading checkpoints may sign a new one of the current head: still only a view of the log.
  'GET /audit': 'auditLog:view',
  'GET /audit/checkpoints': 'auditLog:view',
} as const satisfies Record<string, Permission>;

/**
 * The permission a route registered under `prefix` declares. HEAD answers as its GET does.
 * Throws for an undeclared route: the server must not start with it.
 */
export function permissionForRoute(method: string, url: string, prefix: string): Permission {
  const path = url.startsWith(prefix) ? url.slice(prefix.length) || '/' : url;
  const verb = method === 'HEAD' ? 'GET' : method;
  const declared = (ADMIN_ROUTE_PERMISSIONS as Record<string, Permission>)[`${verb} ${path}`];
  if (!declared) {
    throw new Error(
      `admin route ${verb} ${url} declares no permission; add it to ADMIN_ROUTE_PERMISSIONS (control/admin/route-permissions.ts)`,
    );
  }
  return declared;
}

/**
 * Routes whose handlers check each object's place (`Access.allows`), so a grant scoped to a team
 * or project may call them and reaches only that team's or project's objects. Every other route
 * needs its permission over the whole organisation.
 */
const PLACE_CHECKED_ROUTES: ReadonlySet<string> = new Set([
  'POST /budgets',
  'GET /budgets',
  'GET /budgets/:id',
  'PATCH /budgets/:id',
  'DELETE /budgets/:id',
  'POST /virtual-keys',
  'GET /virtual-keys',
  'GET /virtual-keys/:id',
  'PATCH /virtual-keys/:id',
  'DELETE /virtual-keys/:id',
  'POST /virtual-keys/:id/rotate',
]);

export function routeIsPlaceChecked(method: string, url: string, prefix: string): boolean {
  const path = url.startsWith(prefix) ? url.slice(prefix.length) || '/' : url;
  return PLACE_CHECKED_ROUTES.has(`${method === 'HEAD' ? 'GET' : method} ${path}`);
}
