/** The fields of a Google service account key file that minting a token needs. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

/**
 * The key file's JSON text as a key, or why it is not one. One check for the admin API (refused
 * at create and patch) and the token minting (a stored key that went bad says so by name).
 */
export function parseServiceAccountKey(text: string | undefined): ServiceAccountKey | string {
  if (!text) return 'there is no service account key.';
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(text) as Partial<ServiceAccountKey>;
  } catch {
    return 'the service account key is not JSON.';
  }
  if (typeof key !== 'object' || key === null) return 'the service account key is not a JSON object.';
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    return 'the service account key has no client_email or private_key.';
  }
  if (key.token_uri !== undefined && !isHttpUrl(key.token_uri)) {
    return 'the service account key has a token_uri that is not an http(s) URL.';
  }
  return key as ServiceAccountKey;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'https:' || protocol === 'http:';
}
