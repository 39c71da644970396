import { GatewayError, isWellFormedAdminToken, isWellFormedVirtualKey } from '@gatehouse/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Authenticator, bearerToken, type ResolvedKey } from '../../gateway/index.js';
import type { SecretBox } from '../../security/secret-box.js';
import { secretsEqual } from '../../security/secret-box.js';
import { findLiveAdminToken, touchAdminToken } from '../../store/admin-tokens.js';
import type { Database } from '../../store/database.js';
import { getUser, type UserRow } from '../../store/users.js';
import { Access, type Grant, grantsOfPerson } from '../access.js';
import { BOOTSTRAP_PERMISSIONS, isPermission, type Permission } from '../permissions.js';
import type { WebSessions } from '../sso/web-sessions.js';
import { permissionForRoute, routeIsPlaceChecked } from './route-permissions.js';

/** Who is acting, as the audit log names them. */
export type AdminActor =
  | { kind: 'bootstrap' }
  | { kind: 'adminToken'; tokenId: string; name: string }
  | { kind: 'person'; userId: string; email: string };

/**
 * The admin API's caller in one organisation: the bootstrap token (owner of the default
 * organisation), an admin token, or a person signed in with SSO (a browser session, or the
 * personal key `gatehouse login` gave the CLI) with the roles bound to them.
 */
export interface AdminPrincipal {
  organizationId: string;
  actor: AdminActor;
  access: Access;
  /** What the caller holds over the whole organisation (`access.everywhere`). */
  permissions: ReadonlySet<Permission>;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal;
  }
  interface FastifyContextConfig {
    /** The admin route's declared permission (`route-permissions.ts`), set when it registers. */
    permission?: Permission;
    /** The handler checks each object's place, so a team- or project-scoped grant may call it. */
    placeChecked?: boolean;
  }
}

export interface AdminCallerOptions {
  /** GATEHOUSE_ADMIN_TOKEN: an owner of the default organisation. */
  bootstrapToken: string | undefined;
  defaultOrganizationId: string;
  db: Database;
  box: SecretBox;
  /** Browser sessions; a person's session is an admin caller with that person's roles. */
  sessions: WebSessions | undefined;
  /** Resolves personal keys, the CLI's sign-in, as the gateway does. */
  authenticator: Authenticator;
  now(): Date;
}

/** How often a token's last use is written: a busy automation does not write on every call. */
const LAST_USE_GRANULARITY_MS = 60_000;

/** The header a caller names the organisation it acts in with. */
export const ORGANIZATION_HEADER = 'x-gatehouse-organization';

type Identified =
  | { principal: AdminPrincipal }
  | { refusal: { status: 401 | 403 | 404; code: string; message: string } };

const unauthorized = {
  refusal: {
    status: 401,
    code: 'unauthorized',
    message: 'Sign in, or send an admin bearer token or your personal key.',
  },
} as const;

/**
 * An onRequest hook that knows the caller: the bootstrap token (compared in constant time), a
 * live admin token (`gha_…`, checksum first, then its keyed hash), a person's personal key, or a
 * person's browser session (whose state-changing calls must carry its CSRF token). Anything else
 * is a 401. A caller naming an organisation it does not act in gets 404, as for any object there.
 */
export function identifyAdminCaller(options: AdminCallerOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const identified = await identify(request, options);
    if ('refusal' in identified) {
      const { status, code, message } = identified.refusal;
      return reply.code(status).send({ error: { code, message } });
    }
    const elsewhere = namedOtherOrganization(request, identified.principal.organizationId);
    if (elsewhere) return reply.code(404).send(elsewhere);
    request.admin = identified.principal;
  };
}

/**
 * The 404 body when the request's `x-gatehouse-organization` names an organisation other than
 * the one its caller acts in (as for any object there); undefined when it names none or that one.
 */
export function namedOtherOrganization(request: FastifyRequest, organizationId: string) {
  const named = request.headers[ORGANIZATION_HEADER];
  if (typeof named !== 'string' || named === organizationId) return undefined;
  return {
    error: { code: 'organization_not_found', message: `You are not a member of organisation ${named}.` },
  };
}

async function identify(request: FastifyRequest, options: AdminCallerOptions): Promise<Identified> {
  const presented = bearerToken(request.headers);
  if (presented !== undefined && options.bootstrapToken && secretsEqual(presented, options.bootstrapToken)) {
    return {
      principal: principalOf(options.defaultOrganizationId, { kind: 'bootstrap' }, [
        { permissions: BOOTSTRAP_PERMISSIONS, scope: 'organization', scopeId: null },
      ]),
    };
  }
  if (presented !== undefined && isWellFormedAdminToken(presented)) {
    const principal = await tokenCaller(presented, options);
    return principal ? { principal } : unauthorized;
  }
  const person = await personCaller(request, options);
  if (person === 'csrf_failed') return csrfFailed;
  return person ? { principal: await personPrincipal(options.db, person.user) } : unauthorized;
}

async function tokenCaller(
  presented: string,
  options: AdminCallerOptions,
): Promise<AdminPrincipal | undefined> {
  const now = options.now();
  const token = await findLiveAdminToken(options.db, options.box.hashToken(presented), now);
  if (!token) return undefined;
  // The row just read says whether the last use is stale: a fresh one costs no write at all.
  // Best effort: a failed write of the last use must not refuse the call.
  const lastUsed = token.lastUsedAt?.getTime() ?? 0;
  if (now.getTime() - lastUsed >= LAST_USE_GRANULARITY_MS) {
    touchAdminToken(options.db, token.id, now, LAST_USE_GRANULARITY_MS).catch(() => {});
  }
  return principalOf(token.organizationId, { kind: 'adminToken', tokenId: token.id, name: token.name }, [
    {
      permissions: new Set(token.permissions.filter(isPermission)),
      scope: token.scope,
      scopeId: token.scopeId,
    },
  ]);
}

/** A signed-in person: by the personal key `gatehouse login` gave the CLI, or by a browser session. */
export type PersonCaller =
  | { via: 'personalKey'; user: UserRow; key: ResolvedKey }
  | { via: 'session'; user: UserRow };

export interface PersonCallerOptions {
  db: Database;
  /** The gateway's key resolver: a personal key is checked exactly as the gateway checks it. */
  authenticator: Authenticator;
  sessions: WebSessions | undefined;
}

/**
 * The person making the request, while their key (or session) and their account are both live.
 * A session's state-changing request without its CSRF token is refused outright: a page of
 * another site must not act as them.
 */
export async function personCaller(
  request: FastifyRequest,
  options: PersonCallerOptions,
): Promise<PersonCaller | 'csrf_failed' | undefined> {
  const presented = bearerToken(request.headers);
  if (presented !== undefined) {
    return isWellFormedVirtualKey(presented) ? personalKeyCaller(presented, options) : undefined;
  }
  const session = await options.sessions?.current(request);
  if (!session) return undefined;
  const changes = request.method !== 'GET' && request.method !== 'HEAD';
  const csrf = request.headers['x-csrf-token'];
  if (
    changes &&
    !options.sessions?.verifyCsrf(request, session, typeof csrf === 'string' ? csrf : undefined)
  ) {
    return 'csrf_failed';
  }
  return { via: 'session', user: session.user };
}

/**
 * The personal key's person, by the gateway's own key rules and cache (revoked, expired and
 * unknown keys refused; a revocation evicts at once), while their account is active.
 */
async function personalKeyCaller(
  presented: string,
  options: PersonCallerOptions,
): Promise<PersonCaller | undefined> {
  let key: ResolvedKey;
  try {
    key = await options.authenticator.authenticate(presented);
  } catch (error) {
    // A key that is not valid is no caller; storage being down is not the caller's fault.
    if (error instanceof GatewayError && REFUSED_KEY_CODES.has(error.code)) return undefined;
    throw error;
  }
  if (!key.personal) return undefined;
  const user = await getUser(options.db, key.organizationId, key.principalId);
  return user && !user.disabledAt ? { via: 'personalKey', user, key } : undefined;
}

/** What the authenticator says of a key that is not a live one. */
const REFUSED_KEY_CODES: ReadonlySet<string> = new Set([
  'missing_key',
  'invalid_key',
  'key_revoked',
  'key_expired',
]);

/** A browser session's change without its CSRF token, for the admin API and `/api/me` alike. */
export const CSRF_FAILED = {
  status: 403,
  code: 'csrf_failed',
  message: 'This change must come from the Gatehouse app: send the session’s x-csrf-token.',
} as const;

const csrfFailed = { refusal: CSRF_FAILED } as const;

/** A signed-in person as an admin caller: their bindings, read now, decide what they may do. */
export async function personPrincipal(db: Database, user: UserRow): Promise<AdminPrincipal> {
  return principalOf(
    user.organizationId,
    { kind: 'person', userId: user.id, email: user.email },
    await grantsOfPerson(db, user),
  );
}

function principalOf(organizationId: string, actor: AdminActor, grants: Grant[]): AdminPrincipal {
  const access = new Access(grants);
  return { organizationId, actor, access, permissions: access.everywhere };
}

/**
 * Declares every admin route's permission as it registers (an undeclared one stops the start)
 * and checks it on every request, after the caller is known and before the body is validated.
 */
export function enforceRoutePermissions(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const declared = new Set(methods.map((method) => permissionForRoute(method, route.url, route.prefix)));
    if (declared.size !== 1)
      throw new Error(`admin route ${route.url} declares different permissions per method`);
    const permission = [...declared][0];
    const placeChecked = methods.every((method) => routeIsPlaceChecked(method, route.url, route.prefix));
    route.config = { ...route.config, permission, placeChecked };
  });
  app.addHook('onRequest', async (request, reply) => {
    const { permission: needed, placeChecked } = request.routeOptions.config;
    // Only routes registered through the hook above reach here; none can lack a declaration.
    // A scoped grant opens only the routes whose handlers check each object's place.
    const allowed =
      needed !== undefined &&
      (request.admin.access.everywhere.has(needed) ||
        (placeChecked === true && request.admin.access.holdsSomewhere(needed)));
    if (!allowed) {
      return reply.code(403).send({
        error: { code: 'forbidden', message: `This needs the ${needed ?? 'undeclared'} permission.` },
      });
    }
  });
}
