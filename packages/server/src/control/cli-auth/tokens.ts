import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecretBox } from '../../security/secret-box.js';
import {
  findRefreshToken,
  getGrant,
  insertGrant,
  insertRefreshToken,
  spendRefreshToken,
} from '../../store/cli-auth.js';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import { getUser, type UserRow } from '../../store/users.js';
import { type AuditTrail, personActor } from '../audit/trail.js';
import { AccessEnded, mintPersonalKey, revokeGrant } from '../personal-access.js';

/** Refresh tokens: this prefix and 32 random bytes, base64url (recognisable to a secret scanner). */
export const REFRESH_TOKEN_PREFIX = 'ghr_';

/** How long a CLI stays signed in without being used: each refresh starts the clock again. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;

/**
 * The token endpoint's answer. The access token is the personal virtual key itself: one
 * credential, one revocation, accepted by every gateway route. `virtual_key` repeats it under
 * the name the Gatehouse CLI reads.
 */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  virtual_key: string;
  virtual_key_expires_at: string;
}

/** An RFC 6749 §5.2 error: the caller shows `error`, the status says whose fault. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

/** Sends an OAuth error: RFC 6749 §5.2's body; a 401 for a bad bearer says how to authenticate. */
export function sendOAuthError(reply: FastifyReply, error: OAuthError) {
  if (error.status === 401 && error.error !== 'invalid_grant') reply.header('www-authenticate', 'Bearer');
  return reply.code(error.status).send({ error: error.error, error_description: error.description });
}

export interface CliTokenOptions {
  db: Database;
  box: SecretBox;
  /** Announces revoked keys to every instance. */
  onKeysChange(): void;
  /** Every key minted and every sign-out is recorded here. */
  audit: AuditTrail;
  now(): Date;
}

/**
 * CLI sign-ins ("grants"): each is one device's rotation family of single-use refresh tokens
 * plus the personal keys minted for it. Reusing a spent refresh token means it was copied;
 * the whole family and its keys are revoked, per OAuth 2.0 Security BCP §4.14.
 */
export class CliTokens {
  readonly #options: CliTokenOptions;

  constructor(options: CliTokenOptions) {
    this.#options = options;
  }

  /** A new sign-in for `user` on one device. */
  async start(
    user: UserRow,
    clientId: string,
    deviceName: string | null,
    request?: FastifyRequest,
  ): Promise<TokenResponse> {
    const grant = await insertGrant(this.#options.db, {
      organizationId: user.organizationId,
      userId: user.id,
      clientId,
      deviceName,
    });
    return this.#tokensFor(user, grant.id, deviceName, request, 'sign_in');
  }

  /** Rotates a refresh token: the presented one is spent, a new one and a fresh key come back. */
  async refresh(presented: string, clientId: string, request?: FastifyRequest): Promise<TokenResponse> {
    const { db, box, now } = this.#options;
    const tokenHash = box.hashToken(presented);
    const token = await findRefreshToken(db, tokenHash);
    if (!token) throw invalidGrant('The refresh token is not valid.');
    const grant = await getGrant(db, token.grantId);
    if (!grant || grant.revokedAt) throw invalidGrant('This sign-in was ended. Sign in again.');
    if (grant.clientId !== clientId) throw invalidGrant('The refresh token was issued to another client.');
    if (!token.spentAt && token.expiresAt <= now()) {
      throw invalidGrant('The refresh token has expired. Sign in again.');
    }
    if (token.spentAt || !(await spendRefreshToken(db, tokenHash, now()))) {
      await this.revoke(grant.id, request, 'refresh_token_reused');
      throw invalidGrant('The refresh token was already used; this sign-in is revoked. Sign in again.');
    }
    const user = await getUser(db, grant.organizationId, grant.userId);
    if (!user || user.disabledAt) throw invalidGrant('Your account is deactivated.');
    return this.#tokensFor(user, grant.id, grant.deviceName, request, 'refresh');
  }

  /** A fresh personal key for a live grant (the CLI asks before its key runs out). */
  async mint(
    grantId: string,
    request?: FastifyRequest,
  ): Promise<{ virtual_key: string; virtual_key_expires_at: string; expires_in: number }> {
    const { db } = this.#options;
    const grant = await getGrant(db, grantId);
    if (!grant || grant.revokedAt) throw invalidGrant('This sign-in was ended. Sign in again.');
    const user = await getUser(db, grant.organizationId, grant.userId);
    if (!user || user.disabledAt) throw invalidGrant('Your account is deactivated.');
    const key = await this.#mintKey(user, grant.id, grant.deviceName, request, 'mint');
    return {
      virtual_key: key.key,
      virtual_key_expires_at: key.expiresAt.toISOString(),
      expires_in: this.#secondsUntil(key.expiresAt),
    };
  }

  /** Signs one device out: its refresh tokens and its keys stop working at once. */
  async revoke(
    grantId: string,
    request: FastifyRequest | undefined,
    reason: 'sign_out' | 'refresh_token_reused',
  ): Promise<void> {
    const revokedKeys = await revokeGrant(this.#options.db, grantId, this.#options.now());
    this.#options.onKeysChange();
    const grant = await getGrant(this.#options.db, grantId);
    const user = grant && (await getUser(this.#options.db, grant.organizationId, grant.userId));
    if (!grant || !user) return;
    await this.#options.audit.record({
      organizationId: grant.organizationId,
      actor: personActor(user),
      action: 'key.revoke',
      target: { type: 'cli_grant', id: grantId },
      after: { reason, userId: user.id, deviceName: grant.deviceName, revokedKeys },
      request,
    });
  }

  async #tokensFor(
    user: UserRow,
    grantId: string,
    deviceName: string | null,
    request: FastifyRequest | undefined,
    reason: MintReason,
  ): Promise<TokenResponse> {
    const { db, box, now } = this.#options;
    const refreshToken = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await insertRefreshToken(db, {
      tokenHash: box.hashToken(refreshToken),
      grantId,
      expiresAt: new Date(now().getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const key = await this.#mintKey(user, grantId, deviceName, request, reason);
    return {
      access_token: key.key,
      token_type: 'Bearer',
      expires_in: this.#secondsUntil(key.expiresAt),
      refresh_token: refreshToken,
      virtual_key: key.key,
      virtual_key_expires_at: key.expiresAt.toISOString(),
    };
  }

  async #mintKey(
    user: UserRow,
    grantId: string,
    deviceName: string | null,
    request: FastifyRequest | undefined,
    reason: MintReason,
  ) {
    const { db, box, now } = this.#options;
    const organization = await getOrganization(db, user.organizationId);
    let minted: Awaited<ReturnType<typeof mintPersonalKey>>;
    try {
      minted = await mintPersonalKey(db, box, {
        user,
        ttlSeconds: organization?.personalKeyTtlSeconds ?? 86_400,
        name: deviceName ? `CLI on ${deviceName}` : 'CLI sign-in',
        grantId,
        now: now(),
      });
    } catch (error) {
      // Cut off while this request was in flight.
      if (error instanceof AccessEnded) throw invalidGrant(`No key: ${error.message}. Sign in again.`);
      throw error;
    }
    await this.#options.audit.record({
      organizationId: user.organizationId,
      actor: personActor(user),
      action: 'key.mint',
      target: { type: 'virtual_key', id: minted.keyId },
      before: null,
      after: {
        reason,
        grantId,
        userId: user.id,
        projectId: minted.projectId,
        expiresAt: minted.expiresAt.toISOString(),
      },
      request,
    });
    return minted;
  }

  #secondsUntil(when: Date): number {
    return Math.max(0, Math.floor((when.getTime() - this.#options.now().getTime()) / 1000));
  }
}

/** Why a CLI key was minted: a new sign-in, a refresh, or a fresh key for a signed-in device. */
type MintReason = 'sign_in' | 'refresh' | 'mint';

/**
 * A refresh that cannot succeed. 401, not RFC 6749's 400: Claude Code's gateway sign-in sends
 * the person back to sign in exactly on `401 {"error":"invalid_grant"}`.
 */
function invalidGrant(description: string): OAuthError {
  return new OAuthError('invalid_grant', description, 401);
}
