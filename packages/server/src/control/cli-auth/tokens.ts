import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
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
import { AccessEnded, mintPersonalKey, revokeGrant } from '../personal-access.js';

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
  async start(user: UserRow, clientId: string, deviceName: string | null): Promise<TokenResponse> {
    const grant = await insertGrant(this.#options.db, {
      organizationId: user.organizationId,
      userId: user.id,
      clientId,
      deviceName,
    });
    return this.#tokensFor(user, grant.id, deviceName);
  }

  /** Rotates a refresh token: the presented one is spent, a new one and a fresh key come back. */
  async refresh(presented: string, clientId: string): Promise<TokenResponse> {
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
      await this.revoke(grant.id);
      throw invalidGrant('The refresh token was already used; this sign-in is revoked. Sign in again.');
    }
    const user = await getUser(db, grant.organizationId, grant.userId);
    if (!user || user.disabledAt) throw invalidGrant('Your account is deactivated.');
    return this.#tokensFor(user, grant.id, grant.deviceName);
  }

  /** A fresh personal key for a live grant (the CLI asks before its key runs out). */
  async mint(
    grantId: string,
  ): Promise<{ virtual_key: string; virtual_key_expires_at: string; expires_in: number }> {
    const { db } = this.#options;
    const grant = await getGrant(db, grantId);
    if (!grant || grant.revokedAt) throw invalidGrant('This sign-in was ended. Sign in again.');
    const user = await getUser(db, grant.organizationId, grant.userId);
    if (!user || user.disabledAt) throw invalidGrant('Your account is deactivated.');
    const key = await this.#mintKey(user, grant.id, grant.deviceName);
    return {
      virtual_key: key.key,
      virtual_key_expires_at: key.expiresAt.toISOString(),
      expires_in: this.#secondsUntil(key.expiresAt),
    };
  }

  /** Signs one device out: its refresh tokens and its keys stop working at once. */
  async revoke(grantId: string): Promise<void> {
    await revokeGrant(this.#options.db, grantId, this.#options.now());
    this.#options.onKeysChange();
  }

  async #tokensFor(user: UserRow, grantId: string, deviceName: string | null): Promise<TokenResponse> {
    const { db, box, now } = this.#options;
    const refreshToken = `ghr_${randomBytes(32).toString('base64url')}`;
    await insertRefreshToken(db, {
      tokenHash: box.hashToken(refreshToken),
      grantId,
      expiresAt: new Date(now().getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const key = await this.#mintKey(user, grantId, deviceName);
    return {
      access_token: key.key,
      token_type: 'Bearer',
      expires_in: this.#secondsUntil(key.expiresAt),
      refresh_token: refreshToken,
      virtual_key: key.key,
      virtual_key_expires_at: key.expiresAt.toISOString(),
    };
  }

  async #mintKey(user: UserRow, grantId: string, deviceName: string | null) {
    const { db, box, now } = this.#options;
    const organization = await getOrganization(db, user.organizationId);
    try {
      return await mintPersonalKey(db, box, {
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
  }

  #secondsUntil(when: Date): number {
    return Math.max(0, Math.floor((when.getTime() - this.#options.now().getTime()) / 1000));
  }
}

/**
 * A refresh that cannot succeed. 401, not RFC 6749's 400: Claude Code's gateway sign-in sends
 * the person back to sign in exactly on `401 {"error":"invalid_grant"}`.
 */
function invalidGrant(description: string): OAuthError {
  return new OAuthError('invalid_grant', description, 401);
}
