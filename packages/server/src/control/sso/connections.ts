import { and, eq } from 'drizzle-orm';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { newId } from '../../store/ids.js';
import { type SsoProtocol, ssoConnections } from '../../store/schema.js';

/** An organisation's OpenID Connect identity provider. */
export interface OidcConnection {
  protocol: 'oidc';
  /** The issuer URL; its discovery document is fetched from `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret: string | undefined;
}

/** An organisation's SAML 2.0 identity provider. */
export interface SamlConnection {
  protocol: 'saml';
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  entryPoint: string;
  /** The IdP's entity id: assertions must be issued by it. */
  idpEntityId: string;
  /** The IdP's signing certificates (PEM or base64 DER); several during a rotation. */
  certificates: string[];
}

export type SsoConnection = OidcConnection | SamlConnection;

/** The default organisation's OIDC from the environment (GATEHOUSE_OIDC_*), when set. */
export interface EnvironmentOidc {
  organizationId: string;
  connection: OidcConnection | undefined;
}

/**
 * Where an organisation's SSO settings come from: the admin API's stored connection, or for the
 * default organisation the environment, so a deployment can start ready to sign people in. A
 * stored connection wins over the environment.
 */
export class SsoConnections {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #environment: EnvironmentOidc;

  constructor(db: Database, box: SecretBox, environment: EnvironmentOidc) {
    this.#db = db;
    this.#box = box;
    this.#environment = environment;
  }

  async get<P extends SsoProtocol>(
    organizationId: string,
    protocol: P,
  ): Promise<Extract<SsoConnection, { protocol: P }> | undefined> {
    const [row] = await this.#db
      .select()
      .from(ssoConnections)
      .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.protocol, protocol)));
    if (row) {
      const secret = row.secretCiphertext ? this.#box.open(row.secretCiphertext, row.id) : undefined;
      return {
        ...(row.settings as object),
        protocol,
        ...(protocol === 'oidc' ? { clientSecret: secret } : {}),
      } as Extract<SsoConnection, { protocol: P }>;
    }
    if (protocol === 'oidc' && organizationId === this.#environment.organizationId) {
      return this.#environment.connection as Extract<SsoConnection, { protocol: P }> | undefined;
    }
    return undefined;
  }

  /**
   * Whether any organisation can sign anyone in. Without it a device code could never be
   * approved, so the CLI is told at once instead of waiting out the code.
   */
  async anyConfigured(): Promise<boolean> {
    if (this.#environment.connection) return true;
    const [row] = await this.#db.select({ id: ssoConnections.id }).from(ssoConnections).limit(1);
    return row !== undefined;
  }

  async put(organizationId: string, connection: SsoConnection): Promise<void> {
    const id = newId('sso');
    const { protocol, ...rest } = connection;
    const secret = protocol === 'oidc' ? (rest as Omit<OidcConnection, 'protocol'>).clientSecret : undefined;
    const settings: Record<string, unknown> = { ...rest };
    delete settings.clientSecret;
    await this.#db.transaction(async (tx) => {
      await tx
        .delete(ssoConnections)
        .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.protocol, protocol)));
      await tx.insert(ssoConnections).values({
        id,
        organizationId,
        protocol,
        settings,
        secretCiphertext: secret ? this.#box.seal(secret, id) : null,
      });
    });
  }

  /**
   * Whether the organisation signs in through the server's environment connection
   * (`GATEHOUSE_OIDC_*`): no stored connection overrides it, so it cannot be removed here.
   */
  async isFromEnvironment(organizationId: string, protocol: SsoProtocol): Promise<boolean> {
    if (protocol !== 'oidc' || organizationId !== this.#environment.organizationId) return false;
    if (!this.#environment.connection) return false;
    const [row] = await this.#db
      .select({ id: ssoConnections.id })
      .from(ssoConnections)
      .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.protocol, protocol)));
    return row === undefined;
  }

  async remove(organizationId: string, protocol: SsoProtocol): Promise<boolean> {
    const removed = await this.#db
      .delete(ssoConnections)
      .where(and(eq(ssoConnections.organizationId, organizationId), eq(ssoConnections.protocol, protocol)))
      .returning({ id: ssoConnections.id });
    return removed.length > 0;
  }
}
