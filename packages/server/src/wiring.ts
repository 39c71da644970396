import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { AuditTrail } from './control/audit/trail.js';
import { BudgetAlerts } from './control/budget-alerts.js';
import { ChangeFeed, changeFeedProblems } from './control/change-feed.js';
import { TelemetryQuota } from './control/claude-code/telemetry-quota.js';
import { SignInAttemptLimits } from './control/cli-auth/attempt-limits.js';
import { createPostgresNotifyBus } from './control/postgres-notify-bus.js';
import { SsoConnections } from './control/sso/connections.js';
import { devIdentityProviderRoutes, devIdpConnection } from './control/sso/dev-idp.js';
import { OidcSignIn } from './control/sso/oidc.js';
import { SamlSignIn } from './control/sso/saml.js';
import { WebSessions } from './control/sso/web-sessions.js';
import { failureSummary } from './failure-summary.js';
import { BudgetAdmission } from './gateway/admission/budget-admission.js';
import { RateLimitAdmission } from './gateway/admission/rate-limit-admission.js';
import { ScopedRowsCache, type ScopeRef } from './gateway/admission/scoped-rows-cache.js';
import { Authenticator } from './gateway/auth/authenticator.js';
import { CallsInFlight } from './gateway/calls-in-flight.js';
import { CircuitBreakers } from './gateway/dispatch/circuit-breaker.js';
import { UpstreamClient } from './gateway/dispatch/upstream.js';
import type { AdmissionStages } from './gateway/pipeline.js';
import { createMemoryHotState, createRedisHotState } from './hot-state/index.js';
import { buildApp } from './http/app.js';
import { findWebRoot } from './http/web-app.js';
import { IdentityTokens } from './security/identity-tokens.js';
import { resolveMasterKey } from './security/master-key.js';
import { OutboundNetworks } from './security/outbound-networks.js';
import { SecretBox } from './security/secret-box.js';
import { type BudgetRow, budgetsForScopes, ledgerSpend } from './store/budgets.js';
import { createChangeLog } from './store/change-log.js';
import { type OpenDatabase, openDatabase, type StorageTarget } from './store/database.js';
import { ensureDefaultOrganization, getOrganization } from './store/organizations.js';
import { limitsForScopes } from './store/rate-limits.js';
import type { BudgetScope, RateLimitScope, StorageOutageMode } from './store/schema.js';
import { UsageLedger } from './store/usage-ledger.js';

/** A running Gatehouse: the HTTP app plus the parts it must close in order. */
export interface Gatehouse {
  app: FastifyInstance;
  storage: OpenDatabase;
  ledger: UsageLedger;
  upstream: UpstreamClient;
  /** Seals provider secrets and hashes virtual keys; identity features (SSO) mint keys with it. */
  box: SecretBox;
  masterKeyOrigin: string;
  /** The audit log's writer (sign-in helpers outside a request record through it too). */
  audit: AuditTrail;
  /**
   * Resolves once every model call that has started is metered and settled: a client can see
   * its answer end a moment before its usage event is recorded.
   */
  callsSettled(): Promise<void>;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then flushes the ledger. */
  close(graceMs: number): Promise<void>;
}

export interface AssembleOptions {
  /** Storage override for tests (in-memory PGlite, a scratch PostgreSQL database). */
  storage?: StorageTarget;
  logger?: boolean;
}

/**
 * The one place that builds every adapter from the configuration and hands them in. Nothing
 * else reads the environment or decides which implementation runs.
 */
export async function assemble(config: Config, options: AssembleOptions = {}): Promise<Gatehouse> {
  const embedded = config.databaseUrl === undefined;
  const target: StorageTarget =
    options.storage ??
    (embedded
      ? { kind: 'pglite', dataDir: config.dataDir }
      : { kind: 'postgres', url: config.databaseUrl as string });
  const masterKey = resolveMasterKey({
    configured: config.secretKey,
    dataDir: config.dataDir,
    embedded: target.kind === 'pglite',
  });
  const box = new SecretBox(masterKey.key);
  const storage = await openDatabase(target);
  const organization = await ensureDefaultOrganization(storage.db);

  let app: FastifyInstance | undefined;
  const callsInFlight = new CallsInFlight();
  const ledger = new UsageLedger(storage.db, {
    flushIntervalMs: config.usageFlushMs,
    spoolPath:
      target.kind === 'pglite' && target.dataDir === undefined
        ? undefined
        : join(config.dataDir, 'usage-spool.jsonl'),
    // Embedded PGlite runs with fsync off: syncing the spool in front of it would buy nothing.
    spoolSync: target.kind === 'postgres',
    onError: (error) =>
      app?.log.error({ reason: failureSummary(error) }, 'usage ledger write failed; will retry'),
  });
  await ledger.start();
  const authenticator = new Authenticator(storage.db, box, { cacheTtlMs: config.keyCacheTtlMs });
  const identityTokens = await IdentityTokens.load(storage.db, box, config.publicUrl);
  // The change stands even when its audit event cannot be written; the failure must be seen.
  const auditTrail = new AuditTrail({
    db: storage.db,
    signer: identityTokens,
    now: () => new Date(),
    onError: (error, record) =>
      app?.log.error(
        { reason: failureSummary(error), action: record.action, organizationId: record.organizationId },
        'audit event could not be written',
      ),
  });
  // Hot state: in-process for one instance, Redis when several share budgets and rate limits.
  const hotState = config.redisUrl
    ? await createRedisHotState(config.redisUrl, { keyPrefix: 'gatehouse:' })
    : createMemoryHotState();
  // Budget windows need the organisation's time zone on every budgeted call: kept in memory,
  // cleared with the budgets when it changes.
  const timeZones = new Map<string, Promise<string>>();
  const timeZoneOf = (organizationId: string): Promise<string> => {
    let zone = timeZones.get(organizationId);
    if (!zone) {
      zone = getOrganization(storage.db, organizationId).then(
        (organization) => organization?.timeZone ?? 'UTC',
      );
      zone.catch(() => timeZones.delete(organizationId));
      timeZones.set(organizationId, zone);
    }
    return zone;
  };
  const outageModes = new Map<string, StorageOutageMode>();
  const outageModeOf = async (organizationId: string): Promise<StorageOutageMode> => {
    const known = outageModes.get(organizationId);
    if (known) return known;
    // Read while storage answers; during an outage an organisation never read counts as closed.
    const mode = (await getOrganization(storage.db, organizationId))?.storageOutageMode ?? 'closed';
    outageModes.set(organizationId, mode);
    return mode;
  };
  const budgetCache = new ScopedRowsCache(
    (organizationId, scopes: ScopeRef<BudgetScope>[]) => budgetsForScopes(storage.db, organizationId, scopes),
    { ttlMs: config.keyCacheTtlMs },
  );
  const rateLimitCache = new ScopedRowsCache(
    (organizationId, scopes: ScopeRef<RateLimitScope>[]) =>
      limitsForScopes(storage.db, organizationId, scopes),
    { ttlMs: config.keyCacheTtlMs },
  );
  // Without Redis, instances that share a PostgreSQL hear each other's changes through it.
  const notifyBus =
    !config.redisUrl && target.kind === 'postgres'
      ? await createPostgresNotifyBus(target.url, (error) =>
          app?.log.error({ err: error }, 'change notification connection failed'),
        )
      : undefined;
  const changes = new ChangeFeed({
    bus: notifyBus ?? hotState,
    handlers: {
      'keys-and-policies': () => authenticator.invalidateAll(),
      budgets: () => {
        budgetCache.clear();
        timeZones.clear();
        outageModes.clear();
      },
      'rate-limits': () => rateLimitCache.clear(),
    },
    // Embedded PGlite belongs to one process: no other instance to tell, no log to read.
    log: target.kind === 'postgres' ? createChangeLog(storage.db) : undefined,
    pollMs: config.changePollMs,
    onProblem: (problem, error) =>
      app?.log.warn({ reason: failureSummary(error) }, changeFeedProblems[problem]),
  });
  await changes.start();
  const budgetAdmission = new BudgetAdmission({
    hotState,
    budgetsFor: (organizationId, scopes) => budgetCache.rowsFor(organizationId, scopes),
    ledgerSpend: (budget, windowStart) => ledgerSpend(storage.db, budget, windowStart),
    timeZoneOf,
    now: Date.now,
    reservedOutputTokensCap: config.reservationOutputTokens,
    reservationTtlMs: config.reservationTtlMs,
    seedRefreshMs: config.budgetReseedMs,
    alerts: new BudgetAlerts({
      db: storage.db,
      webhookUrl: config.alertWebhookUrl,
      webhookSecret: config.alertWebhookSecret,
      onError: (error) => app?.log.error({ err: error }, 'budget alert failed'),
    }),
  });
  const rateLimitAdmission = new RateLimitAdmission({
    hotState,
    limitsFor: (organizationId, scopes) => rateLimitCache.rowsFor(organizationId, scopes),
    reservedOutputTokensCap: config.reservationOutputTokens,
  });
  // The pipeline runs them in its order (rate limits, then budgets); storage outages are
  // logged at most every 10 s.
  let lastOutageLog = 0;
  const admission: AdmissionStages = {
    rateLimits: rateLimitAdmission,
    budgets: budgetAdmission,
    outages: {
      modeOf: outageModeOf,
      onOutage: (error, mode) => {
        if (Date.now() - lastOutageLog < 10_000) return;
        lastOutageLog = Date.now();
        app?.log.error(
          { reason: failureSummary(error), mode },
          'budgets cannot be checked: storage unreachable',
        );
      },
    },
  };
  const outboundNetworks = new OutboundNetworks(config.upstreamAllowedNetworks);
  const upstream = new UpstreamClient(
    {
      connectMs: config.upstreamConnectTimeoutMs,
      headersMs: config.upstreamHeadersTimeoutMs,
      idleMs: config.upstreamIdleTimeoutMs,
    },
    outboundNetworks,
  );

  const ssoConnections = new SsoConnections(storage.db, box, {
    organizationId: organization.id,
    // GATEHOUSE_DEV_SSO points the default organisation at the built-in development provider.
    connection: config.oidc
      ? { protocol: 'oidc', ...config.oidc }
      : config.devSso
        ? devIdpConnection(config.publicUrl)
        : undefined,
  });
  const webSessions = new WebSessions(storage.db, box, {
    ttlSeconds: config.sessionTtlSeconds,
    publicUrl: config.publicUrl,
    now: () => new Date(),
  });
  const announceKeyChange = () => changes.announce('keys-and-policies');
  const breakers = new CircuitBreakers();
  const budgetCounter = async (budget: BudgetRow, windowStart: number) => {
    const key = { budgetId: budget.id, windowStart };
    await hotState.seedSpent(key, await ledgerSpend(storage.db, budget, windowStart));
    return hotState.counter(key);
  };

  app = await buildApp({
    config,
    webRoot: findWebRoot(),
    sso: {
      db: storage.db,
      box,
      connections: ssoConnections,
      sessions: webSessions,
      oidc: new OidcSignIn({ redirectUri: `${config.publicUrl}/api/auth/sso/oidc/callback` }),
      saml: new SamlSignIn({
        acsUrl: `${config.publicUrl}/api/auth/sso/saml/acs`,
        entityId: `${config.publicUrl}/api/auth/sso/saml/metadata`,
      }),
      defaultOrganizationId: organization.id,
      audit: auditTrail,
      now: () => new Date(),
    },
    cliAuth: {
      status: {
        budgetsFor: (organizationId, scopes) => budgetCache.rowsFor(organizationId, scopes),
        counter: budgetCounter,
        timeZoneOf,
        blockedFor: (credentialId) => breakers.blockedFor(credentialId),
      },
      db: storage.db,
      box,
      sessions: webSessions,
      authenticator,
      publicUrl: config.publicUrl,
      signInConfigured: () => ssoConnections.anyConfigured(),
      attempts: new SignInAttemptLimits(hotState),
      onKeysChange: announceKeyChange,
      audit: auditTrail,
      now: () => new Date(),
    },
    scim: {
      db: storage.db,
      box,
      defaultOrganizationId: organization.id,
      environmentToken: config.scimToken,
      onKeysChange: announceKeyChange,
      audit: auditTrail,
      now: () => new Date(),
    },
    logger: options.logger,
    jwks: () => identityTokens.jwks(),
    claudeCode: {
      db: storage.db,
      authenticator,
      maxTelemetryBytes: config.telemetryMaxBodyBytes,
      telemetryQuota: new TelemetryQuota(hotState, {
        keyBytesPerMinute: config.telemetryKeyBytesPerMinute,
        organizationBytesPerMinute: config.telemetryOrganizationBytesPerMinute,
      }),
    },
    isReady: async () => {
      try {
        await storage.db.execute(sql`select 1`);
        return true;
      } catch {
        return false;
      }
    },
    me: {
      db: storage.db,
      sessions: webSessions,
      authenticator,
      status: {
        budgetsFor: (organizationId, scopes) => budgetCache.rowsFor(organizationId, scopes),
        counter: budgetCounter,
        timeZoneOf,
        blockedFor: (credentialId) => breakers.blockedFor(credentialId),
      },
      onKeysChange: announceKeyChange,
      audit: auditTrail,
      forcedFeatureFlags: config.forcedFeatureFlags,
      now: () => new Date(),
    },
    admin: {
      db: storage.db,
      box,
      sessions: webSessions,
      authenticator,
      adminToken: config.adminToken,
      defaultOrganizationId: organization.id,
      onPolicyChange: announceKeyChange,
      now: () => new Date(),
      sso: ssoConnections,
      publicUrl: config.publicUrl,
      outbound: outboundNetworks,
      upstream,
      breakers,
      audit: { trail: auditTrail, jwksUrl: `${config.publicUrl}/.well-known/jwks.json` },
      forcedFeatureFlags: config.forcedFeatureFlags,
      budgets: {
        counters: { counter: budgetCounter },
        timeZoneOf,
        onBudgetChange: () => changes.announce('budgets'),
      },
      rateLimits: { onRateLimitChange: () => changes.announce('rate-limits') },
    },
    gateway: {
      maxBodyBytes: config.maxBodyBytes,
      dependencies: {
        authenticator,
        admission,
        upstream,
        breakers,
        lastCredentialRetries: config.upstreamRetries,
        maxRetryDelayMs: 2_000,
        streamKeepAliveMs: config.streamKeepAliveMs,
        identityTokens,
        ledger,
        callsInFlight,
        reportFault: (error, requestId) => app?.log.error({ err: error, requestId }, 'gateway fault'),
        reportUnpriced: (details) =>
          app?.log.warn(
            details,
            'served a model with no price: its usage is recorded as unpriced; set priceOverrides or defaultPrice on the provider',
          ),
      },
    },
  });

  if (config.devSso) {
    await app.register(devIdentityProviderRoutes, {
      publicUrl: config.publicUrl,
      emails: config.devSso.emails,
    });
  }

  const running = app;
  return {
    app: running,
    storage,
    ledger,
    upstream,
    box,
    masterKeyOrigin: masterKey.origin,
    audit: auditTrail,
    callsSettled: () => callsInFlight.idle(),
    async close(graceMs: number) {
      const closing = running.close();
      // A connection whose last response just finished stays open for keep-alive; close those as
      // they go idle, so the drain ends when the last in-flight call does, not a minute later.
      const reaper = setInterval(() => running.server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => running.server.closeAllConnections(), graceMs);
      await closing;
      clearInterval(reaper);
      // A call whose connection has closed may still be metering; its event must reach the
      // ledger before the ledger closes (the connections' deadline bounds this wait too).
      let graceLeft: NodeJS.Timeout | undefined;
      await Promise.race([
        callsInFlight.idle(),
        new Promise((resolve) => {
          graceLeft = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(graceLeft);
      clearTimeout(deadline);
      await ledger.close();
      // Each part is closed even when one before it fails (a Redis that is down cannot be
      // unsubscribed from cleanly); the storage, holding the ledger's last writes, goes last.
      for (const part of [
        () => upstream.close(),
        () => changes.stop(),
        async () => notifyBus?.close(),
        () => hotState.close(),
      ]) {
        await part().catch((error: unknown) =>
          running.log.warn({ reason: failureSummary(error) }, 'a part did not close cleanly'),
        );
      }
      await storage.close();
    },
  };
}
