import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The control store. One schema for embedded PGlite and PostgreSQL alike; drizzle-kit turns it
 * into the SQL migrations in `packages/server/drizzle`, applied at start.
 */

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  /** IANA time zone that day, week and month budgets are aligned to. */
  timeZone: text('time_zone').notNull().default('UTC'),
  /** Lifetime of the personal keys people get by signing in. */
  personalKeyTtlSeconds: integer('personal_key_ttl_seconds').notNull().default(86_400),
  /**
   * Email domains whose people join this organisation on first sign-in. Empty: anyone the
   * organisation's own identity provider vouches for.
   */
  emailDomains: jsonb('email_domains').$type<string[]>().notNull().default([]),
  /**
   * What a budgeted call gets while the database or the hot state cannot be reached: `closed`
   * refuses it (503 with retry-after), `open` serves it unmetered against budgets.
   */
  storageOutageMode: text('storage_outage_mode').$type<StorageOutageMode>().notNull().default('closed'),
  /**
   * Release flags an owner switched for this organisation (`release_ui_*`: true or false). A flag
   * not named here takes its default; `FEATURE_FLAG_FORCE_ENABLE` overrides both.
   */
  featureFlags: jsonb('feature_flags').$type<Record<string, boolean>>().notNull().default({}),
  createdAt: createdAt(),
});

export const storageOutageModes = ['closed', 'open'] as const;
export type StorageOutageMode = (typeof storageOutageModes)[number];

/**
 * The release flags `organizations.feature_flags` may switch (what each one hides and gates is in
 * `control/feature-flags.ts`). Here, below the control plane, so the config can refuse unknown
 * names in FEATURE_FLAG_FORCE_ENABLE at start.
 */
export const featureFlagNames = [
  'release_ui_ai_gateway_menu_enabled',
  'release_ui_ai_governance_enabled',
] as const;
export type FeatureFlagName = (typeof featureFlagNames)[number];

export const teams = pgTable('teams', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  /** The identity provider's id for the group this team mirrors (SCIM `externalId`). */
  externalId: text('external_id'),
  createdAt: createdAt(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    email: text('email').notNull(),
    name: text('name'),
    /** The identity provider's stable subject, once the user has signed in with SSO. */
    externalSubject: text('external_subject'),
    /** The provisioning system's id for the person (SCIM `externalId`). */
    externalId: text('external_id'),
    teamId: text('team_id').references(() => teams.id),
    /**
     * The groups the identity provider named at the person's last sign-in (an OIDC groups
     * claim); role bindings to an `idpGroup` subject follow them.
     */
    idpGroups: jsonb('idp_groups').$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('users_org_email').on(table.organizationId, table.email)],
);

/**
 * A credential's provider type: the `type` of one adapter in `gateway/providers/registry.ts`, the
 * one list of what exists (the admin API refuses the others), so adding a provider needs no change here.
 */
export type ProviderType = string;

/** A connection to one provider account. The secret is an AES-256-GCM envelope, never plaintext. */
export const providerCredentials = pgTable('provider_credentials', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  type: text('type').$type<ProviderType>().notNull(),
  baseUrl: text('base_url'),
  /** Encrypted JSON of the type's secret fields (API key, access keys, service account). */
  secretCiphertext: text('secret_ciphertext'),
  /** Type-specific settings that are not secret: region, project, API version, deployments. */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /** Send the caller's signed identity (`x-gatehouse-identity`) to this upstream: for trusted ones only. */
  forwardIdentity: boolean('forward_identity').notNull().default(false),
  /**
   * Models this credential serves, exact ids or `*` patterns; null means its own vendor's models
   * (and nothing, for an OpenAI-compatible server at a custom base URL).
   */
  models: jsonb('models').$type<string[] | null>(),
  /** Per-model prices that win over the catalogue (negotiated rates, fine-tunes). */
  priceOverrides: jsonb('price_overrides').$type<Record<string, PriceOverride>>().notNull().default({}),
  /** The price of any model it serves that neither an override nor the catalogue prices. */
  defaultPrice: jsonb('default_price').$type<PriceOverride | null>(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export interface UsageAttempt {
  providerId: string;
  status: number | undefined;
  errorCode: string | undefined;
  latencyMs: number;
}

export interface PriceOverride {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number | undefined;
  cacheWritePerMTok?: number | undefined;
}

export const routingPolicies = pgTable(
  'routing_policies',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    /** Provider credential ids, tried in this order. */
    providerIds: jsonb('provider_ids').$type<string[]>().notNull(),
    /** Alias → model id, e.g. `fast` → `claude-haiku-4-5`. */
    modelAliases: jsonb('model_aliases').$type<Record<string, string>>().notNull().default({}),
    /** Models (or `*` patterns) keys under this policy may use; null allows every model. */
    allowedModels: jsonb('allowed_models').$type<string[] | null>(),
    /** Models (or `*` patterns) refused even when allowed. */
    deniedModels: jsonb('denied_models').$type<string[]>().notNull().default([]),
    /** The policy projects without one of their own inherit; at most one per organisation. */
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('routing_policies_one_default').on(table.organizationId).where(sql`${table.isDefault}`),
  ],
);

export const projects = pgTable(
  'projects',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    teamId: text('team_id').references(() => teams.id),
    name: text('name').notNull(),
    /** A user's own project, holding their personal keys. */
    isPersonal: boolean('is_personal').notNull().default(false),
    ownerUserId: text('owner_user_id').references(() => users.id),
    routingPolicyId: text('routing_policy_id').references(() => routingPolicies.id),
    createdAt: createdAt(),
  },
  (table) => [
    // One personal project per person, even when two first sign-ins race.
    uniqueIndex('projects_one_personal').on(table.ownerUserId).where(sql`${table.isPersonal}`),
  ],
);

export const virtualKeyKinds = ['service', 'personal'] as const;
export type VirtualKeyKind = (typeof virtualKeyKinds)[number];

/** Virtual keys are stored only as an HMAC of the key; the key itself is shown once. */
export const virtualKeys = pgTable(
  'virtual_keys',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    /** The person a personal key acts for; null for service keys. */
    userId: text('user_id').references(() => users.id),
    kind: text('kind').$type<VirtualKeyKind>().notNull(),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull(),
    /** A few trailing characters, enough to recognise a key in a list. */
    keyHint: text('key_hint').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** The CLI sign-in a personal key was minted for: signing that device out revokes it. */
    grantId: text('grant_id'),
  },
  (table) => [
    uniqueIndex('virtual_keys_hash').on(table.keyHash),
    index('virtual_keys_project').on(table.projectId),
  ],
);

/** One row per gateway request, appended in batches off the hot path. */
export const usageEvents = pgTable(
  'usage_events',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    requestId: text('request_id').notNull(),
    organizationId: text('organization_id').notNull(),
    projectId: text('project_id').notNull(),
    /** The project's team, when it has one: team budgets are summed over it. */
    teamId: text('team_id'),
    /** The person (user id) or, for service keys, the key id: who spent. */
    principalId: text('principal_id').notNull(),
    keyId: text('key_id').notNull(),
    api: text('api').notNull(),
    model: text('model').notNull(),
    providerId: text('provider_id'),
    providerType: text('provider_type'),
    status: integer('status').notNull(),
    errorCode: text('error_code'),
    streamed: boolean('streamed').notNull(),
    /** True when tokens were estimated because the stream ended before the provider reported them. */
    usageEstimated: boolean('usage_estimated').notNull().default(false),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
    cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    priceSource: text('price_source'),
    /** True when no price was known for the model: the cost is unknown, not zero. */
    unpriced: boolean('unpriced').notNull().default(false),
    latencyMs: integer('latency_ms').notNull(),
    /** Every provider tried for the request, in order: fallbacks show here. */
    attempts: jsonb('attempts').$type<UsageAttempt[]>().notNull().default([]),
    firstByteMs: integer('first_byte_ms'),
    /**
     * The coding tool that made the call (`claude-code`, `codex`, `gemini-cli`, `cursor`, …), read
     * from its User-Agent; null when the caller is not one Gatehouse recognises.
     */
    clientTool: text('client_tool'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('usage_events_request').on(table.requestId),
    index('usage_events_org_time').on(table.organizationId, table.createdAt),
  ],
);

export const budgetScopes = ['org', 'team', 'project', 'user', 'key'] as const;
export type BudgetScope = (typeof budgetScopes)[number];
export const budgetActions = ['block', 'alert'] as const;
export type BudgetAction = (typeof budgetActions)[number];

/**
 * A spending limit on one scope, over a calendar window in the organisation's time zone,
 * optionally for one provider credential or one model only.
 */
export const budgets = pgTable(
  'budgets',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name'),
    scope: text('scope').$type<BudgetScope>().notNull(),
    /** The organisation, team, project, user or key id the budget limits. */
    scopeId: text('scope_id').notNull(),
    limitUsd: doublePrecision('limit_usd').notNull(),
    window: text('window').$type<'day' | 'week' | 'month' | 'total'>().notNull(),
    action: text('action').$type<BudgetAction>().notNull(),
    /** Only spend on this provider credential counts, when set. */
    providerId: text('provider_id'),
    /** Only spend on this model counts, when set. */
    model: text('model'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('budgets_scope').on(table.organizationId, table.scope, table.scopeId)],
);

export const rateLimitScopes = ['key', 'user', 'project', 'provider'] as const;
export type RateLimitScope = (typeof rateLimitScopes)[number];

/**
 * Requests and tokens per minute on one key, user (principal), project or provider credential,
 * enforced across every gateway instance. One row per scope, so each scope has exactly one
 * counter per kind in the hot state.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    scope: text('scope').$type<RateLimitScope>().notNull(),
    /** The key, user (principal), project or provider credential id the limit applies to. */
    scopeId: text('scope_id').notNull(),
    /** Null: requests are not limited on this scope. */
    requestsPerMinute: integer('requests_per_minute'),
    /** Null: tokens are not limited on this scope. */
    tokensPerMinute: integer('tokens_per_minute'),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('rate_limits_scope').on(table.organizationId, table.scope, table.scopeId)],
);

/** Alert thresholds already announced, so each fires once per budget window across all instances. */
export const budgetAlerts = pgTable(
  'budget_alerts',
  {
    budgetId: text('budget_id').notNull(),
    windowStart: bigint('window_start', { mode: 'number' }).notNull(),
    /** Percent of the limit: 50, 80 or 100. */
    threshold: integer('threshold').notNull(),
    firedAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.budgetId, table.windowStart, table.threshold] })],
);

/**
 * Keys that sign identity tokens. The private half is sealed like provider secrets; every
 * instance loads the same keys, and the public halves are published as a JWKS.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  algorithm: text('algorithm').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateSealed: text('private_sealed').notNull(),
  createdAt: createdAt(),
});

/**
 * The Claude Code settings document an organisation (or one of its teams) pushes to Claude Code's
 * own gateway sign-in, served at `/managed/settings`. `teamId` '' is the organisation-wide one.
 */
export const managedSettings = pgTable(
  'managed_settings',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    teamId: text('team_id').notNull().default(''),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    etag: text('etag').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.teamId] })],
);

/** OTLP telemetry posted by coding tools, kept as received and attributed to who sent it. */
export const telemetryRecords = pgTable(
  'telemetry_records',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    organizationId: text('organization_id').notNull(),
    principalId: text('principal_id').notNull(),
    keyId: text('key_id').notNull(),
    /** metrics, logs or traces. */
    signal: text('signal').notNull(),
    contentType: text('content_type').notNull(),
    /** The request body: JSON as text, protobuf as base64. */
    body: text('body').notNull(),
    receivedAt: createdAt(),
  },
  (table) => [
    index('telemetry_principal_time').on(table.organizationId, table.principalId, table.receivedAt),
  ],
);

export const ssoProtocols = ['oidc', 'saml'] as const;
export type SsoProtocol = (typeof ssoProtocols)[number];

/**
 * How an organisation's people sign in: one OpenID Connect and/or one SAML connection. Settings
 * are the protocol's public half (issuer, client id; IdP entity id, SSO URL, certificate); the
 * OIDC client secret is sealed like provider secrets.
 */
export const ssoConnections = pgTable(
  'sso_connections',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    protocol: text('protocol').$type<SsoProtocol>().notNull(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    secretCiphertext: text('secret_ciphertext'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('sso_connections_protocol').on(table.organizationId, table.protocol)],
);

/**
 * A sign-in in flight: the state, nonce and PKCE verifier of an OIDC redirect, or the request id
 * of a SAML AuthnRequest, kept until the identity provider answers (once).
 */
export const ssoTransactions = pgTable('sso_transactions', {
  /** The OIDC `state` or the SAML request id, hashed. */
  idHash: text('id_hash').primaryKey(),
  organizationId: text('organization_id').notNull(),
  protocol: text('protocol').$type<SsoProtocol>().notNull(),
  /** Sealed JSON: nonce, code verifier (OIDC). */
  secretSealed: text('secret_sealed'),
  /** Where to send the person after signing in (a path on this server). */
  returnTo: text('return_to').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** One-time values already seen (SAML assertion ids), so a captured assertion cannot be replayed. */
export const spentNonces = pgTable('spent_nonces', {
  nonce: text('nonce').primaryKey(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** A signed-in browser. The cookie holds the id; only its hash is stored. */
export const webSessions = pgTable(
  'web_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    organizationId: text('organization_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [index('web_sessions_user').on(table.userId)],
);

/**
 * The organisations one browser session has signed in to, each through that organisation's own
 * identity provider: the session acts as one of them at a time (its current one, or the one the
 * `x-gatehouse-organization` header names).
 */
export const sessionMemberships = pgTable(
  'session_memberships',
  {
    sessionIdHash: text('session_id_hash')
      .notNull()
      .references(() => webSessions.idHash),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.sessionIdHash, table.organizationId] })],
);

export const deviceAuthorizationStates = ['pending', 'approved', 'denied', 'spent'] as const;
export type DeviceAuthorizationState = (typeof deviceAuthorizationStates)[number];

/** An RFC 8628 device authorization: a CLI waiting for a person to approve its user code. */
export const deviceAuthorizations = pgTable('device_authorizations', {
  id: text('id').primaryKey(),
  deviceCodeHash: text('device_code_hash').notNull().unique(),
  /** Hashed like the device code; the person types it, so it is short and normalised. */
  userCodeHash: text('user_code_hash').notNull().unique(),
  clientId: text('client_id').notNull(),
  /** What the device says it is (the CLI sends its host name), shown on the approval page. */
  deviceName: text('device_name'),
  state: text('state').$type<DeviceAuthorizationState>().notNull().default('pending'),
  organizationId: text('organization_id'),
  userId: text('user_id').references(() => users.id),
  intervalSeconds: integer('interval_seconds').notNull(),
  lastPolledAt: timestamp('last_polled_at', { withTimezone: true }),
  createdAt: createdAt(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** An RFC 8252 loopback sign-in's authorization code, bound to its PKCE challenge. */
export const authorizationCodes = pgTable('authorization_codes', {
  codeHash: text('code_hash').primaryKey(),
  clientId: text('client_id').notNull(),
  redirectUri: text('redirect_uri').notNull(),
  codeChallenge: text('code_challenge').notNull(),
  deviceName: text('device_name'),
  organizationId: text('organization_id').notNull(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
});

/**
 * One signed-in CLI (a device): its refresh tokens form one rotation family, and the personal
 * keys minted for it are revoked with it.
 */
export const cliGrants = pgTable(
  'cli_grants',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    clientId: text('client_id').notNull(),
    deviceName: text('device_name'),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [index('cli_grants_user').on(table.userId)],
);

/** Rotating, single-use refresh tokens, stored hashed. A spent one presented again revokes its grant. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    grantId: text('grant_id')
      .notNull()
      .references(() => cliGrants.id),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    spentAt: timestamp('spent_at', { withTimezone: true }),
  },
  (table) => [index('refresh_tokens_grant').on(table.grantId)],
);

/** Bearer tokens an identity provider's SCIM client uses; stored hashed, shown once. */
export const scimTokens = pgTable('scim_tokens', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  tokenHint: text('token_hint').notNull(),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/**
 * Admin tokens for automation: a named set of permissions in one organisation, stored as a keyed
 * hash (the token is shown once), expiring or not, revocable, with the time of its last use.
 */
export const adminTokens = pgTable('admin_tokens', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id')
    .notNull()
    .references(() => organizations.id),
  name: text('name').notNull(),
  /** Permission names from the catalogue (`control/permissions.ts`). */
  permissions: jsonb('permissions').$type<string[]>().notNull(),
  /** Where the permissions apply: the organisation, or one team or project in it. */
  scope: text('scope').$type<GrantScope>().notNull().default('organization'),
  scopeId: text('scope_id'),
  tokenHash: text('token_hash').notNull().unique(),
  tokenHint: text('token_hint').notNull(),
  createdAt: createdAt(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
});

/** Where a role binding or an admin token applies: the organisation, one team, or one project. */
export const grantScopes = ['organization', 'team', 'project'] as const;
export type GrantScope = (typeof grantScopes)[number];

/** A custom role: a named set of permissions from the catalogue, in one organisation. */
export const customRoles = pgTable(
  'custom_roles',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    description: text('description'),
    permissions: jsonb('permissions').$type<string[]>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('custom_roles_org_name').on(table.organizationId, table.name)],
);

/** Who a role binding gives its role to: a person, every member of a team, or an IdP group. */
export const bindingSubjects = ['user', 'team', 'idpGroup'] as const;
export type BindingSubject = (typeof bindingSubjects)[number];

/**
 * A role given to a subject at a scope. `role` is a built-in role's name or a custom role's id;
 * `subjectId` a user id, a team id, or an identity-provider group's name.
 */
export const roleBindings = pgTable(
  'role_bindings',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    role: text('role').notNull(),
    subjectKind: text('subject_kind').$type<BindingSubject>().notNull(),
    subjectId: text('subject_id').notNull(),
    scope: text('scope').$type<GrantScope>().notNull().default('organization'),
    scopeId: text('scope_id'),
    createdAt: createdAt(),
  },
  (table) => [index('role_bindings_subject').on(table.organizationId, table.subjectKind, table.subjectId)],
);

/**
 * Every change that gateway caches depend on (revocations, policies, budgets, rate limits), in
 * order. The message bus carries announcements fast; this log makes them durable, so an instance
 * that missed a message while the bus was down still learns of the change by reading the log.
 */
export const changeLog = pgTable(
  'change_log',
  {
    sequence: bigserial('sequence', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('change_log_time').on(table.createdAt)],
);

/** Who an audit event names as its actor (`control/audit/trail.ts`). */
export const auditActorKinds = ['bootstrap', 'adminToken', 'person', 'scim', 'system'] as const;
export type AuditActorKind = (typeof auditActorKinds)[number];

/**
 * The audit log: append-only, hash-chained per organisation. Each row's `hash` covers its
 * content and the previous row's hash (`control/audit/hash.ts`), so an edited, removed or
 * reordered row breaks the chain from there on. The server's database role needs only INSERT
 * and SELECT here (docs/operations.md).
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    /** 1, 2, 3 … per organisation, without gaps. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    actorKind: text('actor_kind').$type<AuditActorKind>().notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    /** `budgets.update`, `sign_in.failed`, `scim.user.deactivate` … */
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    /** Redacted: no secret is ever stored here. */
    before: jsonb('before'),
    after: jsonb('after'),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (table) => [
    uniqueIndex('audit_events_seq').on(table.organizationId, table.seq),
    index('audit_events_target').on(table.organizationId, table.targetType, table.targetId, table.seq),
    index('audit_events_time').on(table.organizationId, table.occurredAt),
  ],
);

/**
 * Each organisation's chain head: the writer locks it (SELECT … FOR UPDATE) to append, so two
 * instances never give out the same seq. The one audit table the server updates.
 */
export const auditChainHeads = pgTable('audit_chain_heads', {
  organizationId: text('organization_id')
    .primaryKey()
    .references(() => organizations.id),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
  lastHash: text('last_hash').notNull(),
});

/** The chain head at a seq, signed with the server's published key (a compact JWS). */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    jws: text('jws').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.organizationId, table.seq] })],
);
