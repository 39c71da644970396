import { randomBytes } from 'node:crypto';
import { desc } from 'drizzle-orm';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/** The runtime's Web Crypto key (the DOM lib, which declares it, is not loaded on the server). */
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

import type { Database } from '../store/database.js';
import { signingKeys } from '../store/schema.js';
import type { SecretBox } from './secret-box.js';

/** What a token says about the caller: the claims every usage event is labelled with. */
export interface IdentityClaims {
  organizationId: string;
  projectId: string;
  principalId: string;
  personal: boolean;
  keyId: string;
}

const ALGORITHM = 'ES256';
/** The JWS `typ` of an audit checkpoint, so one can never pass for an identity token. */
export const AUDIT_CHECKPOINT_TYPE = 'gatehouse-audit-checkpoint+jws';
/** Tokens are short-lived; a cached token is replaced a minute before it expires. */
const TOKEN_LIFETIME_SECONDS = 300;
const RENEW_BEFORE_MS = 60_000;

/**
 * Signs the gateway's resolved identity as a JWT (ES256) that trusted upstreams can verify
 * against the published JWKS. The signing key lives in the store, sealed, so every instance signs
 * with a key the JWKS lists.
 */
export class IdentityTokens {
  readonly #issuer: string;
  readonly #kid: string;
  readonly #privateKey: SigningKey;
  readonly #publicJwks: JWK[];
  readonly #cache = new Map<string, { token: string; expiresAt: number }>();

  private constructor(issuer: string, kid: string, privateKey: SigningKey, publicJwks: JWK[]) {
    this.#issuer = issuer;
    this.#kid = kid;
    this.#privateKey = privateKey;
    this.#publicJwks = publicJwks;
  }

  /** Loads the newest signing key, creating one on first start. */
  static async load(db: Database, box: SecretBox, issuer: string): Promise<IdentityTokens> {
    let rows = await db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    if (rows.length === 0) {
      const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
      const kid = randomBytes(8).toString('hex');
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
      await db
        .insert(signingKeys)
        .values({
          kid,
          algorithm: ALGORITHM,
          publicJwk,
          privateSealed: box.seal(JSON.stringify(await exportJWK(privateKey)), kid),
        })
        .onConflictDoNothing();
      rows = await db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    }
    const newest = rows[0];
    if (!newest) throw new Error('no identity signing key after creating one');
    const privateJwk = JSON.parse(box.open(newest.privateSealed, newest.kid)) as JWK;
    const privateKey = (await importJWK(privateJwk, newest.algorithm)) as SigningKey;
    return new IdentityTokens(
      issuer,
      newest.kid,
      privateKey,
      rows.map((row) => row.publicJwk as JWK),
    );
  }

  /** The public keys, as `/.well-known/jwks.json` serves them. */
  jwks(): { keys: JWK[] } {
    return { keys: this.#publicJwks };
  }

  /**
   * Signs an audit chain checkpoint (`control/audit/trail.ts`) as a compact JWS with the same
   * published key, so anyone holding the JWKS can check that the server vouched for this head.
   */
  async signCheckpoint(checkpoint: { organizationId: string; seq: number; hash: string }): Promise<string> {
    const payload = {
      iss: this.#issuer,
      organization_id: checkpoint.organizationId,
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      iat: Math.floor(Date.now() / 1000),
    };
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: ALGORITHM, kid: this.#kid, typ: AUDIT_CHECKPOINT_TYPE })
      .sign(this.#privateKey);
  }

  async tokenFor(claims: IdentityClaims): Promise<string> {
    const now = Date.now();
    const cached = this.#cache.get(claims.keyId);
    if (cached && cached.expiresAt - now > RENEW_BEFORE_MS) return cached.token;
    const issuedAt = Math.floor(now / 1000);
    const token = await new SignJWT({
      organization_id: claims.organizationId,
      project_id: claims.projectId,
      principal_id: claims.principalId,
      personal: claims.personal,
      key_id: claims.keyId,
    })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.#kid, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setSubject(claims.principalId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + TOKEN_LIFETIME_SECONDS)
      .sign(this.#privateKey);
    if (this.#cache.size >= 100_000) this.#cache.clear();
    this.#cache.set(claims.keyId, { token, expiresAt: (issuedAt + TOKEN_LIFETIME_SECONDS) * 1000 });
    return token;
  }
}
