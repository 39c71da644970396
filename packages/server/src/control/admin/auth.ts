import type { FastifyReply, FastifyRequest } from 'fastify';
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
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    const presented = match?.[1]?.trim();
    if (!adminToken || !presented || !secretsEqual(presented, adminToken)) {
      return reply
        .code(401)
        .send({ error: { code: 'unauthorized', message: 'A valid admin bearer token is required.' } });
    }
    request.admin = { organizationId };
  };
}
