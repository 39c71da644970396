import {
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { organizations, users } from './tenancy.js';

/** How people and machines sign in: identity-token signing keys, SSO connections and transactions, browser sessions, CLI device and loopback sign-in, refresh tokens, SCIM tokens. */

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
