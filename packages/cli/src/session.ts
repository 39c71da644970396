import {
  type Credentials,
  readCredentials,
  readRefreshToken,
  withCredentialsLock,
  writeCredentials,
} from './credentials.js';
import { CLIENT_ID, discover, OAuthError, oauthPost, type TokenResponse } from './server-api.js';
import { CliError, ExitCode } from './ui.js';

/**
 * The signed-in session on this machine, and the one rule that keeps tools working for hours:
 * hand out a key only with time left on it, refreshing (once, under a lock, however many
 * processes ask at the same moment) when it is close to expiry.
 */

/** Refresh when less than this much of the key's life is left (capped at half its lifetime). */
const REFRESH_MARGIN_MS = 10 * 60 * 1000;

export async function currentCredentials(): Promise<Credentials> {
  const credentials = await readCredentials();
  if (!credentials)
    throw new CliError('You are not signed in.', ExitCode.notSignedIn, 'Run: gatehouse login');
  return credentials;
}

/**
 * Credentials whose key is good for a while yet, refreshed first if need be. `forWholeSession`
 * asks for a key with at least 90 % of its life ahead, for tools that cannot renew one mid-way.
 */
export async function freshCredentials(options: { forWholeSession?: boolean } = {}): Promise<Credentials> {
  const stale = (credentials: Credentials) => needsRefresh(credentials, options.forWholeSession ?? false);
  const current = await currentCredentials();
  if (!stale(current)) return current;
  return withCredentialsLock(async () => {
    // Another process may have refreshed while this one waited for the lock.
    const latest = await currentCredentials();
    if (!stale(latest)) return latest;
    return refresh(latest);
  });
}

function needsRefresh(credentials: Credentials, forWholeSession: boolean): boolean {
  const expiresAt = Date.parse(credentials.keyExpiresAt);
  const lifetime = Math.max(0, expiresAt - Date.parse(credentials.savedAt));
  const margin = forWholeSession ? lifetime * 0.9 : Math.min(REFRESH_MARGIN_MS, lifetime / 2);
  return !(expiresAt - Date.now() > margin);
}

async function refresh(credentials: Credentials): Promise<Credentials> {
  const refreshToken = await readRefreshToken(credentials);
  if (!refreshToken) {
    throw new CliError(
      'Your key has expired and cannot be renewed.',
      ExitCode.notSignedIn,
      'Run: gatehouse login',
    );
  }
  const metadata = await discover(credentials.server);
  let tokens: TokenResponse;
  try {
    tokens = await oauthPost<TokenResponse>(metadata.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: CLIENT_ID,
    });
  } catch (error) {
    if (error instanceof OAuthError && error.body.error === 'invalid_grant') {
      throw new CliError(
        `Your sign-in has ended: ${error.body.error_description ?? 'the server refused to renew it'}`,
        ExitCode.notSignedIn,
        'Run: gatehouse login',
      );
    }
    throw error;
  }
  const renewed: Credentials = {
    ...credentials,
    key: tokens.virtual_key,
    keyExpiresAt: tokens.virtual_key_expires_at,
    savedAt: new Date().toISOString(),
  };
  await writeCredentials(renewed, tokens.refresh_token);
  return renewed;
}

/** Saves what a completed sign-in returned, with who it is for. */
export async function saveSignIn(
  server: string,
  tokens: TokenResponse,
  who: Pick<Credentials, 'user' | 'organization' | 'projectId'>,
): Promise<Credentials> {
  const credentials: Credentials = {
    server,
    key: tokens.virtual_key,
    keyExpiresAt: tokens.virtual_key_expires_at,
    ...who,
    savedAt: new Date().toISOString(),
  };
  await writeCredentials(credentials, tokens.refresh_token);
  return credentials;
}
