/**
 * The permission catalogue: every right a person, a team or an admin token can be given, in one
 * list. Routes declare which one they need (`admin/route-permissions.ts`); roles are named sets
 * of them. A permission not in this list cannot be declared, granted or checked (the type says so).
 */
export const PERMISSIONS = [
  'organization:view',
  'organization:manage',
  'featureFlags:manage',
  'providers:view',
  'providers:manage',
  'routingPolicies:view',
  'routingPolicies:manage',
  'budgets:view',
  'budgets:manage',
  'rateLimits:view',
  'rateLimits:manage',
  'virtualKeys:view',
  'virtualKeys:manage',
  'users:view',
  'users:manage',
  'teams:view',
  'teams:manage',
  'roles:manage',
  'adminTokens:manage',
  'sso:manage',
  'usage:view',
  'auditLog:view',
  'governance:view',
  'governance:manage',
  'ingestionSources:manage',
  'anomalyRules:manage',
  'complianceExport:view',
  'complianceExport:manage',
  'activityMonitor:view',
  'gateway:use',
  'organizations:create',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export const BUILT_IN_ROLES = ['owner', 'admin', 'member', 'viewer', 'billing'] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

const viewing = PERMISSIONS.filter((permission) => permission.endsWith(':view'));

/**
 * What each built-in role may do. Owners may do everything; admins everything but switch the
 * organisation's release flags (which pages and APIs its people get: the owner's call); members use the gateway and look after
 * their own keys and devices through `/api/me`, which needs no admin permission; viewers see
 * everything an admin sees and change nothing; billing sees usage and sets budgets.
 */
/** Creating organisations is the deployment's business: only the bootstrap token holds it. */
const DEPLOYMENT_ONLY: readonly Permission[] = ['organizations:create'];
const organizationPermissions = PERMISSIONS.filter((permission) => !DEPLOYMENT_ONLY.includes(permission));

export const BUILT_IN_ROLE_PERMISSIONS: Record<BuiltInRole, ReadonlySet<Permission>> = {
  owner: new Set(organizationPermissions),
  admin: new Set(organizationPermissions.filter((permission) => permission !== 'featureFlags:manage')),
  member: new Set<Permission>(['gateway:use']),
  viewer: new Set<Permission>([...viewing, 'gateway:use']),
  billing: new Set<Permission>([
    'organization:view',
    'usage:view',
    'budgets:view',
    'budgets:manage',
    'gateway:use',
  ]),
};

/** The bootstrap token (GATEHOUSE_ADMIN_TOKEN): owner of the default organisation, and it alone creates others. */
export const BOOTSTRAP_PERMISSIONS: ReadonlySet<Permission> = new Set(PERMISSIONS);
