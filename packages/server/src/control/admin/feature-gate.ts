import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import { effectiveFlags, type FeatureFlagName, flagGatingAdminPath } from '../feature-flags.js';
import { noRoute } from './replies.js';

export interface FeatureGateOptions {
  db: Database;
  /** Where the admin routes are mounted (`/api/admin`): flags name paths below it. */
  prefix: string;
  /** Flags the deployment forces on (FEATURE_FLAG_FORCE_ENABLE). */
  forced: ReadonlySet<FeatureFlagName>;
}

/**
 * An onRequest hook, after the caller is known and before its permissions are checked: a route
 * behind a release flag the caller's organisation has off answers exactly as a route that does
 * not exist (404, the admin error shape), for every kind of caller. Before the permission check,
 * so a 403 does not tell anyone the hidden route is there. Only gated routes read the
 * organisation's flags; every other admin call costs nothing more.
 */
export function gateFeatureFlags(options: FeatureGateOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // The registered pattern (`/api/admin/budgets/:id`), not the raw URL: the router decodes
    // and normalises paths, so `%70roviders` reaches the providers route and must be gated too.
    const pattern = request.routeOptions.url;
    if (pattern === undefined || !pattern.startsWith(options.prefix)) return;
    const flag = flagGatingAdminPath(pattern.slice(options.prefix.length) || '/');
    if (flag === undefined || options.forced.has(flag)) return;
    const organization = await getOrganization(options.db, request.admin.organizationId);
    const flags = effectiveFlags(organization ?? { featureFlags: {} }, options.forced);
    if (!flags[flag].enabled) {
      return reply.code(404).send(noRoute(request.method, request.url.split('?')[0] ?? ''));
    }
  };
}
