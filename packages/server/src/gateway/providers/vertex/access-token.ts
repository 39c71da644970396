/**
 * OAuth access tokens for Vertex AI, minted from a service account key: a JWT signed with the
 * key (RS256) exchanged at the key's `token_uri` in one JWT-bearer grant. Tokens are cached per
 * credential until shortly before they expire, and concurrent callers share one request, so a
 * burst of calls costs one round trip to Google.
 * @see https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { RefusedAddressError } from '../../../security/outbound-networks.js';
import { CredentialUnavailableError, type ProviderTarget, type UpstreamSender } from '../types.js';
import { parseServiceAccountKey, type ServiceAccountKey } from './service-account.js';

/** @see https://cloud.google.com/vertex-ai/docs/authentication */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Where keys without a `token_uri` (none Google issues today) are exchanged. */
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The assertion's lifetime: Google accepts at most one hour. */
const ASSERTION_SECONDS = 3600;
/** A token is renewed this long before it expires, so no call goes out with a dying one. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** How long the token request may take, from connecting to the answer's last byte. */
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;
/** Bound on cached tokens; a deployment has a handful of Vertex credentials. */
const MAX_CACHED = 256;

interface CachedToken {
  /** The token request in flight, shared by every caller that arrives before it settles. */
  pending?: Promise<string>;
  token?: string;
  expiresAt: number;
}

const tokens = new Map<string, CachedToken>();

function keyFor(target: ProviderTarget): ServiceAccountKey {
  const parsed = parseServiceAccountKey(target.secret.serviceAccountJson);
  if (typeof parsed === 'string') {
    throw new CredentialUnavailableError(`Vertex credential '${target.name}': ${parsed}`);
  }
  return parsed;
}

/** Why the token request could not be sent or answered, as the credential's failure. */
function unreachableTokenEndpoint(target: ProviderTarget, error: unknown): CredentialUnavailableError {
  const why =
    error instanceof RefusedAddressError
      ? `its key file's token_uri points at an address Gatehouse may not call (${error.network})`
      : `the token endpoint could not be reached (${error instanceof Error ? error.message : String(error)})`;
  return new CredentialUnavailableError(`Vertex credential '${target.name}': ${why}`, { cause: error });
}

async function signedAssertion(key: ServiceAccountKey, tokenUri: string): Promise<string> {
  // Node reads PKCS#8 (what Google issues) and PKCS#1 alike.
  const privateKey = createPrivateKey(key.private_key);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: CLOUD_PLATFORM_SCOPE })
    .setProtectedHeader({
      alg: 'RS256',
      typ: 'JWT',
      ...(key.private_key_id ? { kid: key.private_key_id } : {}),
    })
    .setIssuer(key.client_email)
    .setAudience(tokenUri)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_SECONDS)
    .sign(privateKey);
}

async function requestToken(
  target: ProviderTarget,
  upstream: UpstreamSender,
): Promise<{ token: string; expiresAt: number }> {
  const key = keyFor(target);
  const tokenUri = new URL(key.token_uri ?? DEFAULT_TOKEN_URI);
  const form = new URLSearchParams({
    grant_type: JWT_BEARER_GRANT,
    assertion: await signedAssertion(key, tokenUri.href),
  });
  // Through the gateway's upstream client: the key file names the URL, and whoever may connect a
  // provider may write one, so the outbound address rules hold for it as for the base URL.
  const response = await upstream
    .send(
      {
        origin: tokenUri.origin,
        path: `${tokenUri.pathname}${tokenUri.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: Buffer.from(form.toString()),
      },
      AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    )
    .catch((error: unknown) => {
      throw unreachableTokenEndpoint(target, error);
    });
  const answer = (await response.body.json().catch(() => ({}))) as {
    access_token?: unknown;
    expires_in?: unknown;
    error_description?: unknown;
  };
  const ok = response.statusCode >= 200 && response.statusCode < 300;
  if (!ok || typeof answer.access_token !== 'string' || answer.access_token === '') {
    // Google's description says what is wrong with the key; the key itself is never in it.
    const reason = typeof answer.error_description === 'string' ? `: ${answer.error_description}` : '';
    throw new CredentialUnavailableError(
      `Vertex credential '${target.name}': the token endpoint answered ${response.statusCode} without an access token${reason}`,
    );
  }
  const lifetimeSeconds = typeof answer.expires_in === 'number' ? answer.expires_in : ASSERTION_SECONDS;
  return { token: answer.access_token, expiresAt: Date.now() + lifetimeSeconds * 1000 };
}

/** A bearer token for the credential: the cached one while it is fresh, else a newly minted one. */
export async function accessTokenFor(target: ProviderTarget, upstream: UpstreamSender): Promise<string> {
  // Keyed by the key's digest too, so an edited credential never uses the old key's token.
  const digest = createHash('sha256')
    .update(target.secret.serviceAccountJson ?? '')
    .digest('base64url');
  const cacheKey = `${target.id}\u0000${digest}`;
  let entry = tokens.get(cacheKey);
  if (entry?.token && Date.now() < entry.expiresAt - REFRESH_MARGIN_MS) return entry.token;
  if (entry?.pending) return entry.pending;
  if (!entry) {
    if (tokens.size >= MAX_CACHED) tokens.clear();
    entry = { expiresAt: 0 };
    tokens.set(cacheKey, entry);
  }
  const cached = entry;
  cached.pending = requestToken(target, upstream)
    .then(({ token, expiresAt }) => {
      cached.token = token;
      cached.expiresAt = expiresAt;
      return token;
    })
    .finally(() => {
      cached.pending = undefined;
    });
  return cached.pending;
}

/** Forgets every cached token (tests; a key rotation is picked up by its digest anyway). */
export function clearAccessTokenClients(): void {
  tokens.clear();
}
