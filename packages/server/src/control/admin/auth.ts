import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../gateway/index.js';
import { secretsEqual } from '../../security/secret-box.js';

/** The admin API's caller; today only the bootstrap token, an owner of the default organisation. */
export interface AdminPrincipal {
  organizationId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal;
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
    request.admin = { organizationId };
  };
}
