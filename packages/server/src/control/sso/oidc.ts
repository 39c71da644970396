import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { isLoopbackHost } from '../../security/loopback.js';
import type { VerifiedIdentity } from './admit-identity.js';
import type { OidcConnection } from './connections.js';

/** What must be remembered between the redirect to the provider and its answer. */
export interface OidcPending {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcSignInOptions {
  /** `{public URL}/api/auth/sso/oidc/callback`, registered at the provider. */
  redirectUri: string;
  /**
   * Limit on each HTTP call to the provider (discovery, token, JWKS, userinfo), in seconds.
   * Default 10: a person is waiting in their browser.
   */
  timeoutSeconds?: number;
  /**
   * How long a discovered provider configuration is reused, in seconds. Default 600: long enough
   * to spare the provider a discovery per sign-in, short enough that a provider's changed
   * endpoints (or a changed connection) are picked up without a restart.
   */
  discoveryCacheSeconds?: number;
  /** Milliseconds since the epoch; tests move time with it. */
  now?: () => number;
}

export type OidcSignInErrorCode =
  /** A plain-http issuer (or endpoint) on a host that is not loopback. */
  | 'insecure_issuer'
  /** The discovery document could not be fetched or does not describe this issuer. */
  | 'discovery_failed'
  /** The callback, the token exchange or the ID token failed a check. */
  | 'authorization_failed'
  /** The ID token had no email and the userinfo endpoint could not supply one. */
  | 'userinfo_failed';

/**
 * Why a sign-in could not be started or finished. The message names the failed check and
 * never carries tokens, codes or secrets: these errors are logged, and `cause` is left empty on
 * purpose because openid-client's errors keep the provider's raw response in theirs.
 */
export class OidcSignInError extends Error {
  readonly code: OidcSignInErrorCode;
  constructor(code: OidcSignInErrorCode, message: string) {
    super(message);
    this.name = 'OidcSignInError';
    this.code = code;
  }
}

/**
 * ID token signature algorithms accepted: asymmetric only. `none` and the HS* family are left
 * out because an HMAC ID token is keyed with the client secret, which would let anyone holding
 * that secret (or a provider misconfigured to sign with it) mint identities.
 */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const SCOPE = 'openid email profile';
const DEFAULT_TIMEOUT_SECONDS = 10;
const DEFAULT_DISCOVERY_CACHE_SECONDS = 600;
/** Distinct connections whose discovery is kept; older ones are dropped first. */
const DISCOVERY_CACHE_ENTRIES = 256;

interface CachedDiscovery {
  configuration: Promise<client.Configuration>;
  expiresAt: number;
}

/**
 * OpenID Connect sign-in (authorization code + PKCE S256, `state` and `nonce`) with
 * openid-client: the provider is discovered from its issuer, the ID token's signature (by the
 * provider's published keys, asymmetric algorithms only), issuer, audience, nonce and lifetime
 * are checked, and the claims become a `VerifiedIdentity`.
 *
 * @see https://github.com/panva/openid-client/blob/v6.x/docs/README.md
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 */
export class OidcSignIn {
  readonly #timeoutSeconds: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #discoveries = new Map<string, CachedDiscovery>();

  constructor(readonly options: OidcSignInOptions) {
    this.#timeoutSeconds = positive('timeoutSeconds', options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
    this.#cacheMs =
      positive('discoveryCacheSeconds', options.discoveryCacheSeconds ?? DEFAULT_DISCOVERY_CACHE_SECONDS) *
      1000;
    this.#now = options.now ?? Date.now;
    if (!URL.canParse(options.redirectUri)) {
      throw new Error(`OIDC redirectUri must be an absolute URL, got ${options.redirectUri}`);
    }
  }

  async begin(connection: OidcConnection): Promise<{ url: string; pending: OidcPending }> {
    const configuration = await this.#configuration(connection);
    const pending: OidcPending = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
    // PKCE always, even when the provider does not advertise it: it is harmless where unknown
    // and it is what binds the code to this browser's sign-in where it is known.
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.options.redirectUri,
      scope: SCOPE,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  async complete(
    connection: OidcConnection,
    callbackUrl: URL,
    pending: OidcPending,
  ): Promise<VerifiedIdentity> {
    const configuration = await this.#configuration(connection);
    // The token request's redirect_uri is taken from this URL: always our registered one.
    const current = new URL(this.options.redirectUri);
    current.search = callbackUrl.search;

    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    let claims: client.IDToken;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, {
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        pkceCodeVerifier: pending.codeVerifier,
        idTokenExpected: true,
      });
      const idTokenClaims = tokens.claims();
      if (!idTokenClaims) throw new Error('the token response has no ID token');
      // openid-client already refused any other algorithm (see #configuration); checked again
      // here so that a library change that ignored the pin would fail closed.
      const algorithm = idTokenAlgorithm(tokens.id_token);
      if (!(ID_TOKEN_ALGORITHMS as readonly string[]).includes(algorithm)) {
        throw new Error(`ID token signed with ${algorithm}, which is not accepted`);
      }
      claims = idTokenClaims;
    } catch (error) {
      throw new OidcSignInError(
        'authorization_failed',
        `OIDC sign-in failed: ${describe(error, connection.clientSecret)}`,
      );
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw new OidcSignInError('authorization_failed', 'OIDC sign-in failed: the ID token has no subject');
    }

    let source: Record<string, unknown> = claims;
    if (typeof claims.email !== 'string') {
      // Some providers keep the email behind the userinfo endpoint; its `sub` must match the ID
      // token's, or the answer is about someone else.
      try {
        source = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      } catch (error) {
        throw new OidcSignInError(
          'userinfo_failed',
          `OIDC userinfo failed: ${describe(error, connection.clientSecret)}`,
        );
      }
    }
    return {
      protocol: 'oidc',
      subject: claims.sub,
      email: typeof source.email === 'string' ? source.email : undefined,
      emailVerified: source.email_verified === true,
      name:
        typeof source.name === 'string'
          ? source.name
          : typeof claims.name === 'string'
            ? claims.name
            : undefined,
      groups: groupsClaim(claims.groups) ?? groupsClaim(source.groups),
    };
  }

  /**
   * The provider's discovered configuration, shared by concurrent sign-ins and reused for a
   * bounded time. Keyed by everything in the connection, so an edited connection (a new secret
   * too) is discovered afresh. A failed discovery is not kept.
   */
  #configuration(connection: OidcConnection): Promise<client.Configuration> {
    const now = this.#now();
    const key = [
      connection.issuer,
      connection.clientId,
      // The secret is part of the key only as a digest: the map should not be a second copy.
      connection.clientSecret === undefined
        ? ''
        : createHash('sha256').update(connection.clientSecret).digest('base64url'),
    ].join('\n');
    const cached = this.#discoveries.get(key);
    if (cached && cached.expiresAt > now) return cached.configuration;

    for (const [candidate, entry] of this.#discoveries) {
      if (entry.expiresAt <= now) this.#discoveries.delete(candidate);
    }
    while (this.#discoveries.size >= DISCOVERY_CACHE_ENTRIES) {
      const oldest = this.#discoveries.keys().next().value;
      if (oldest === undefined) break;
      this.#discoveries.delete(oldest);
    }
    const entry: CachedDiscovery = {
      configuration: this.#discover(connection),
      expiresAt: now + this.#cacheMs,
    };
    this.#discoveries.set(key, entry);
    entry.configuration.catch(() => {
      if (this.#discoveries.get(key) === entry) this.#discoveries.delete(key);
    });
    return entry.configuration;
  }

  async #discover(connection: OidcConnection): Promise<client.Configuration> {
    if (!URL.canParse(connection.issuer)) {
      throw new OidcSignInError('discovery_failed', 'The OIDC issuer is not a URL');
    }
    const issuer = new URL(connection.issuer);
    if (issuer.pathname.includes('/.well-known/')) {
      // openid-client would fetch such a URL as is and skip the issuer comparison.
      throw new OidcSignInError(
        'discovery_failed',
        'The OIDC issuer must be the issuer identifier, not its discovery document URL',
      );
    }
    const insecure = issuer.protocol === 'http:';
    if (insecure && !isLoopbackHost(issuer.hostname)) {
      throw new OidcSignInError(
        'insecure_issuer',
        `The OIDC issuer ${issuer.origin} uses plain http, which is accepted only on loopback`,
      );
    }
    if (!insecure && issuer.protocol !== 'https:') {
      throw new OidcSignInError('discovery_failed', 'The OIDC issuer must be an https:// URL');
    }

    const metadata: Partial<client.ClientMetadata> = {
      // oauth4webapi compares the ID token's `alg` with this client metadata, and for a value
      // that is not a string it checks `includes`, so a list pins a set; the type says string,
      // hence the cast. Without it the provider's advertised algorithms would decide. The
      // ES256 public-client test in sso-oidc.test.ts fails if the list stops being honoured.
      id_token_signed_response_alg: [...ID_TOKEN_ALGORITHMS] as unknown as string,
    };
    let configuration: client.Configuration;
    try {
      configuration = await client.discovery(
        issuer,
        connection.clientId,
        metadata,
        connection.clientSecret === undefined
          ? client.None()
          : client.ClientSecretBasic(connection.clientSecret),
        {
          timeout: this.#timeoutSeconds,
          execute: [
            // openid-client trusts an ID token from the token endpoint on TLS alone (OIDC Core
            // 3.1.3.7 allows it); this also verifies its signature with the provider's JWKS.
            client.enableNonRepudiationChecks,
            // Plain http only for a loopback issuer (a provider on this machine, as in tests).
            ...(insecure ? [client.allowInsecureRequests] : []),
          ],
        },
      );
    } catch (error) {
      throw new OidcSignInError(
        'discovery_failed',
        `OIDC discovery failed: ${describe(error, connection.clientSecret)}`,
      );
    }
    if (insecure) {
      // allowInsecureRequests applies to every endpoint of the configuration: a loopback issuer
      // must not lead to plain http anywhere else.
      const server = configuration.serverMetadata();
      for (const endpoint of [
        server.authorization_endpoint,
        server.token_endpoint,
        server.jwks_uri,
        server.userinfo_endpoint,
      ]) {
        if (endpoint === undefined) continue;
        const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
        if (!url || (url.protocol === 'http:' && !isLoopbackHost(url.hostname))) {
          throw new OidcSignInError(
            'insecure_issuer',
            'The OIDC provider names a plain-http endpoint that is not on loopback',
          );
        }
      }
    }
    return configuration;
  }
}

/** 127.0.0.0/8, [::1] and localhost: the hosts on which plain http is tolerated. */
/** The `groups` claim (the name Okta, Entra ID, Keycloak and Dex use) when it is a list of names. */
function groupsClaim(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((group): group is string => typeof group === 'string').slice(0, 500);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`OIDC ${name} must be a positive number`);
  return value;
}

/** The `alg` of a compact JWS's protected header. */
function idTokenAlgorithm(idToken: string | undefined): string {
  const header = idToken?.split('.')[0];
  if (!header) return '(none)';
  try {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
    return typeof parsed.alg === 'string' ? parsed.alg : '(none)';
  } catch {
    return '(unreadable)';
  }
}

/**
 * A failed check in words, for the log: the error's class, code and message, and for an OAuth
 * error answer its `error` and `error_description`. Never `cause` (openid-client keeps the
 * provider's raw response there); the client secret and anything token-shaped are blanked in
 * case a message ever quotes one.
 */
function describe(error: unknown, secret: string | undefined): string {
  if (!(error instanceof Error)) return 'unknown error';
  const parts: string[] = [];
  // openid-client wraps oauth4webapi's error, whose message names the check; read one level down.
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 2; depth++) {
    const {
      code,
      error: oauthError,
      error_description: oauthDescription,
    } = current as {
      code?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    parts.push(
      typeof code === 'string'
        ? `${current.name} (${code}): ${current.message}`
        : `${current.name}: ${current.message}`,
    );
    // Of a plain cause, only the names that say which check failed (`claim: 'nonce'`), never values.
    const cause = current.cause as Record<string, unknown> | undefined;
    for (const field of ['claim', 'attribute', 'parameter', 'reason'] as const) {
      if (typeof cause?.[field] === 'string') parts.push(`${field}=${cause[field]}`);
    }
    // A 401 from the token endpoint arrives as a WWW-Authenticate challenge carrying the error.
    const challenge = Array.isArray(current.cause)
      ? (current.cause[0] as { parameters?: Record<string, unknown> } | undefined)?.parameters
      : undefined;
    const answer = oauthError ?? challenge?.error;
    const description = oauthDescription ?? challenge?.error_description;
    if (typeof answer === 'string') parts.push(`[${answer}]`);
    if (typeof description === 'string') parts.push(description);
    current = current.cause;
  }
  let text = parts.join(' ');
  if (secret) text = text.replaceAll(secret, '[redacted]');
  // Random tokens mix digits with both cases; constant names such as OAUTH_INVALID_RESPONSE do not.
  return text
    .replace(/[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]*){0,2}/g, (candidate) =>
      /\d/.test(candidate) && /[a-z]/.test(candidate) && /[A-Z]/.test(candidate) ? '[redacted]' : candidate,
    )
    .slice(0, 500);
}
