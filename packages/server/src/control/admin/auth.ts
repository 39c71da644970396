import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../gateway/index.js';
import { secretsEqual } from '../../security/secret-box.js';
import { BUILT_IN_ROLE_PERMISSIONS, type Permission } from '../permissions.js';
import { permissionForRoute } from './route-permissions.js';

/** The admin API's caller; today only the bootstrap token, an owner of the default organisation. */
export interface AdminPrincipal {
  organizationId: string;
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

/** A preHandler that lets only GATEHOUSE_ADMIN_TOKEN through, compared in constant time. */
export function requireAdminToken(adminToken: string | undefined, organizationId: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = bearerToken(request.headers);
    if (!adminToken || !presented || !secretsEqual(presented, adminToken)) {
      return reply
        .code(401)
        .send({ error: { code: 'unauthorized', message: 'A valid admin bearer token is required.' } });
    }
    request.admin = { organizationId, permissions: BUILT_IN_ROLE_PERMISSIONS.owner };
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
