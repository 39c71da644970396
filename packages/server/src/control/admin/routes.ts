import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Authenticator, CircuitBreakers, UpstreamClient } from '../../gateway/index.js';
import type { OutboundNetworks } from '../../security/outbound-networks.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { auditAdminChanges } from '../audit/admin-changes.js';
import { auditRoutes } from '../audit/routes.js';
import type { AuditTrail } from '../audit/trail.js';
import type { FeatureFlagName } from '../feature-flags.js';
import type { SsoConnections } from '../sso/connections.js';
import type { WebSessions } from '../sso/web-sessions.js';
import { adminTokenRoutes } from './admin-tokens.js';
import { enforceRoutePermissions, identifyAdminCaller } from './auth.js';
import { type BudgetRouteOptions, budgetRoutes } from './budgets.js';
import { claudeCodeSettingsRoutes } from './claude-code-settings.js';
import { gateFeatureFlags } from './feature-gate.js';
import { governanceRoutes } from './governance.js';
import { organizationRoutes } from './organization.js';
import { organizationCreationRoutes } from './organizations.js';
import { projectRoutes } from './projects.js';
import { providerConnectionRoutes } from './provider-connection.js';
import { providerTypeRoutes } from './provider-types.js';
import { providerRoutes } from './providers.js';
import { type RateLimitRouteOptions, rateLimitRoutes } from './rate-limits.js';
import { roleRoutes } from './roles.js';
import { routingPolicyRoutes } from './routing-policies.js';
import { routingPreviewRoutes } from './routing-preview.js';
import { scimTokenRoutes } from './scim-tokens.js';
import { ssoAdminRoutes } from './sso.js';
import { teamRoutes } from './teams.js';
import { usageRoutes } from './usage.js';
import { userRoutes } from './users.js';
import { virtualKeyRoutes } from './virtual-keys.js';

export interface AdminRouteOptions {
  db: Database;
  box: SecretBox;
  adminToken: string | undefined;
  defaultOrganizationId: string;
  /** Browser sessions: a signed-in person administers with the roles bound to them. */
  sessions?: WebSessions;
  /** The gateway's key resolver, for people calling with their personal key. */
  authenticator: Authenticator;
  /** Called after any change a gateway caches (keys, policies, providers), so it is seen at once. */
  onPolicyChange(): void;
  now(): Date;
  budgets: Omit<BudgetRouteOptions, 'db' | 'now'>;
  rateLimits: Omit<RateLimitRouteOptions, 'db'>;
  sso: SsoConnections;
  publicUrl: string;
  /** Where provider and identity-provider URLs may point. */
  outbound: OutboundNetworks;
  /**
   * The gateway's upstream client and breakers: a connection test, the routing preview and the
   * governance home's provider health use them.
   */
  upstream: UpstreamClient;
  breakers: CircuitBreakers;
  /** Every change made here is recorded in it; `GET /audit` reads it. */
  audit: { trail: AuditTrail; jwksUrl: string };
  /** Release flags the deployment forces on (FEATURE_FLAG_FORCE_ENABLE), whatever an organisation chose. */
  forcedFeatureFlags: ReadonlySet<FeatureFlagName>;
}

/** `/api/admin`: one module per resource, all behind the admin token. */
export async function adminRoutes(parent: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>();
  const { db, box, now, onPolicyChange } = options;
  // onRequest, not preHandler: an anonymous caller is refused before its body is even validated.
  app.addHook(
    'onRequest',
    identifyAdminCaller({
      bootstrapToken: options.adminToken,
      defaultOrganizationId: options.defaultOrganizationId,
      db,
      box,
      sessions: options.sessions,
      authenticator: options.authenticator,
      now,
    }),
  );
  // Between knowing the caller (whose organisation's flags count) and checking their permissions.
  app.addHook('onRequest', gateFeatureFlags({ db, prefix: app.prefix, forced: options.forcedFeatureFlags }));
  enforceRoutePermissions(app);
  // Every successful change through any admin route, present or future, is in the audit log.
  app.addHook('onSend', auditAdminChanges(options.audit.trail));
  providerRoutes(app, { db, box, onPolicyChange, outbound: options.outbound });
  providerTypeRoutes(app);
  providerConnectionRoutes(app, { db, authenticator: options.authenticator, upstream: options.upstream });
  routingPolicyRoutes(app, { db, onPolicyChange });
  routingPreviewRoutes(app, { db, authenticator: options.authenticator, breakers: options.breakers });
  projectRoutes(app, { db, onPolicyChange, now });
  virtualKeyRoutes(app, { db, box, onPolicyChange, now });
  usageRoutes(app, { db, now });
  governanceRoutes(app, { db, now, circuits: options.breakers });
  budgetRoutes(app, { ...options.budgets, db, now });
  organizationRoutes(app, {
    db,
    onBudgetChange: options.budgets.onBudgetChange,
    forcedFlags: options.forcedFeatureFlags,
  });
  claudeCodeSettingsRoutes(app, { db });
  userRoutes(app, { db, onKeysChange: onPolicyChange, now });
  teamRoutes(app, { db });
  rateLimitRoutes(app, { ...options.rateLimits, db });
  ssoAdminRoutes(app, { connections: options.sso, publicUrl: options.publicUrl, outbound: options.outbound });
  scimTokenRoutes(app, { db, box, now });
  adminTokenRoutes(app, { db, box, now });
  roleRoutes(app, { db });
  organizationCreationRoutes(app, { db, box, now, audit: options.audit.trail });
  auditRoutes(app, { db, ...options.audit });
}
