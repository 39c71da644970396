import { isWellFormedAdminToken } from '@gatehouse/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../gateway/index.js';
import type { SecretBox } from '../../security/secret-box.js';
import { secretsEqual } from '../../security/secret-box.js';
import { findLiveAdminToken, touchAdminToken } from '../../store/admin-tokens.js';
import type { Database } from '../../store/database.js';
import { BUILT_IN_ROLE_PERMISSIONS, isPermission, type Permission } from '../permissions.js';
import { permissionForRoute } from './route-permissions.js';

/** Who is acting, as the audit log names them. */
export type AdminActor =
  | { kind: 'bootstrap' }
  | { kind: 'adminToken'; tokenId: string; name: string }
  | { kind: 'person'; userId: string; email: string };

/** The admin API's caller: the bootstrap token (owner of the default organisation) or an admin token. */
export interface AdminPrincipal {
  organizationId: string;
  actor: AdminActor;
  /** What the caller may do in that organisation. */
  permissions: ReadonlySet<Permission>;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal;
  }
  interface FastifyContextConfig {
    /** The admin route's declared permission (`route-permissions.ts`), set when it registers. */
    permission?: Permission;
  }
}

export interface AdminCallerOptions {
  /** GATEHOUSE_ADMIN_TOKEN: an owner of the default organisation. */
  bootstrapToken: string | undefined;
  defaultOrganizationId: string;
  db: Database;
  box: SecretBox;
  now(): Date;
}

/** How often a token's last use is written: a busy automation does not write on every call. */
const LAST_USE_GRANULARITY_MS = 60_000;

/**
 * An onRequest hook that knows the caller: the bootstrap token (compared in constant time) or a
 * live admin token (`gha_…`, checksum first, then its keyed hash). Anything else is a 401.
 */
export function identifyAdminCaller(options: AdminCallerOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = bearerToken(request.headers);
    const caller = presented ? await callerFor(presented, options) : undefined;
    if (!caller) {
      return reply
        .code(401)
        .send({ error: { code: 'unauthorized', message: 'A valid admin bearer token is required.' } });
    }
    request.admin = caller;
  };
}

async function callerFor(
  presented: string,
  options: AdminCallerOptions,
): Promise<AdminPrincipal | undefined> {
  if (options.bootstrapToken && secretsEqual(presented, options.bootstrapToken)) {
    return {
      organizationId: options.defaultOrganizationId,
      actor: { kind: 'bootstrap' },
      permissions: BUILT_IN_ROLE_PERMISSIONS.owner,
    };
  }
  if (!isWellFormedAdminToken(presented)) return undefined;
  const now = options.now();
  const token = await findLiveAdminToken(options.db, options.box.hashToken(presented), now);
  if (!token) return undefined;
  // The row just read says whether the last use is stale: a fresh one costs no write at all.
  // Best effort: a failed write of the last use must not refuse the call.
  const lastUsed = token.lastUsedAt?.getTime() ?? 0;
  if (now.getTime() - lastUsed >= LAST_USE_GRANULARITY_MS) {
    touchAdminToken(options.db, token.id, now, LAST_USE_GRANULARITY_MS).catch(() => {});
  }
  return {
    organizationId: token.organizationId,
    actor: { kind: 'adminToken', tokenId: token.id, name: token.name },
    permissions: new Set(token.permissions.filter(isPermission)),
  };
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
    route.config = { ...route.config, permission: [...declared][0] };
  });
  app.addHook('onRequest', async (request, reply) => {
    const needed = request.routeOptions.config.permission;
    // Only routes registered through the hook above reach here; none can lack a declaration.
    if (needed === undefined || !request.admin.permissions.has(needed)) {
      return reply.code(403).send({
        error: { code: 'forbidden', message: `This needs the ${needed ?? 'undeclared'} permission.` },
      });
    }
  });
}
