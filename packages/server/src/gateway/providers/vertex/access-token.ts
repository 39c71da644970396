/**
 * OAuth access tokens for Vertex AI, minted from a service account key with google-auth-library
 * (a JWT-bearer grant) and cached by the library until five minutes before they expire. One
 * client per credential, so concurrent calls share one token and one refresh.
 * @see https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 */
import { createHash } from 'node:crypto';
import { gaxios, JWT } from 'google-auth-library';
import type { ProviderTarget } from '../types.js';

/** @see https://cloud.google.com/vertex-ai/docs/authentication */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/**
 * The token endpoint google-auth-library 10 posts to. It ignores the key file's `token_uri`
 * (the URL is a constant in its `gtoken/getToken.js`), so a request to this URL is redirected
 * to the key's own `token_uri` by an interceptor on the client's transporter.
 */
const LIBRARY_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Bound on cached clients; a deployment has a handful of Vertex credentials. */
const MAX_CLIENTS = 256;

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

const clients = new Map<string, JWT>();

function parseKey(target: ProviderTarget): ServiceAccountKey {
  const text = target.secret.serviceAccountJson;
  if (!text) throw new Error(`Vertex credential '${target.name}' has no service account key.`);
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(text) as Partial<ServiceAccountKey>;
  } catch {
    throw new Error(`Vertex credential '${target.name}' has a service account key that is not JSON.`);
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new Error(
      `Vertex credential '${target.name}' has a service account key without client_email or private_key.`,
    );
  }
  return key as ServiceAccountKey;
}

function clientFor(target: ProviderTarget): JWT {
  // Keyed by the key's digest too, so an edited credential never uses the old key's token.
  const digest = createHash('sha256')
    .update(target.secret.serviceAccountJson ?? '')
    .digest('base64url');
  const cacheKey = `${target.id}\u0000${digest}`;
  let client = clients.get(cacheKey);
  if (!client) {
    const key = parseKey(target);
    const transporter = new gaxios.Gaxios();
    const tokenUri = key.token_uri;
    if (tokenUri && tokenUri !== LIBRARY_TOKEN_URL) {
      const target = new URL(tokenUri);
      transporter.interceptors.request.add({
        resolved: async (options) => {
          if (String(options.url) === LIBRARY_TOKEN_URL) options.url = target;
          return options;
        },
      });
    }
    client = new JWT({
      email: key.client_email,
      key: key.private_key,
      ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
      scopes: [CLOUD_PLATFORM_SCOPE],
      transporter,
    });
    if (clients.size >= MAX_CLIENTS) clients.clear();
    clients.set(cacheKey, client);
  }
  return client;
}

/** A bearer token for the credential: the cached one while it is fresh, else a newly minted one. */
export async function accessTokenFor(target: ProviderTarget): Promise<string> {
  const { token } = await clientFor(target).getAccessToken();
  if (!token)
    throw new Error(`Vertex credential '${target.name}': the token endpoint returned no access token.`);
  return token;
}

/** Forgets every cached client (tests; a key rotation is picked up by its digest anyway). */
export function clearAccessTokenClients(): void {
  clients.clear();
}
