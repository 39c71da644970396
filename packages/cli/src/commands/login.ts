import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { canOpenBrowser, openBrowser } from '../browser.js';
import { readCredentials } from '../credentials.js';
import {
  CLIENT_ID,
  discover,
  getWithKey,
  normaliseServer,
  OAuthError,
  oauthPost,
  type ServerMetadata,
  type TokenResponse,
  type WhoAmI,
} from '../server-api.js';
import { saveSignIn } from '../session.js';
import { CliError, ExitCode, note, paint, withSpinner } from '../ui.js';

export interface LoginOptions {
  server?: string;
  /** commander's `--no-browser` sets this false. */
  browser: boolean;
  web?: boolean;
}

/** How long the loopback sign-in waits for the browser to come back. */
const LOOPBACK_TIMEOUT_MS = 5 * 60 * 1000;

export async function login(options: LoginOptions): Promise<void> {
  const server = await serverFor(options.server);
  const metadata = await withSpinner('Contacting Gatehouse…', () => discover(server));
  const tokens = options.web
    ? await loopbackSignIn(metadata, options)
    : await deviceSignIn(metadata, options);
  const who = await getWithKey<WhoAmI>(server, '/api/auth/cli/whoami', tokens.virtual_key);
  await saveSignIn(server, tokens, {
    user: who.user,
    organization: who.organization,
    projectId: who.project.id,
  });
  const person = who.user ? who.user.email : 'a service';
  note(
    `${paint(process.stderr, 'green', '✓')} Signed in to ${who.organization.name} as ${paint(process.stderr, 'bold', person)}.`,
  );
  note(`  Your key renews itself; this sign-in lasts until you run gatehouse logout.`);
}

/** The server named on the command line, else in GATEHOUSE_SERVER, else the last one used. */
export async function serverFor(flag: string | undefined): Promise<string> {
  const chosen = flag ?? process.env.GATEHOUSE_SERVER ?? (await readCredentials())?.server;
  if (!chosen) {
    throw new CliError(
      'Which Gatehouse server?',
      ExitCode.usage,
      'Run: gatehouse login --server https://gatehouse.your-company.com (or set GATEHOUSE_SERVER)',
    );
  }
  return normaliseServer(chosen);
}

/** The server's answer when no organisation has an identity provider to sign in with. */
const SSO_NOT_CONFIGURED = 'sso_not_configured';

/** Nobody could approve a sign-in: say so now, with the settings that fix it, not after ten minutes. */
function ssoNotConfigured(server: string): CliError {
  return new CliError(
    `${server} has no single sign-on set up yet, so no sign-in can be approved.`,
    ExitCode.failure,
    [
      'Whoever runs the server sets one of these, then you run gatehouse login again:',
      '  GATEHOUSE_OIDC_ISSUER, GATEHOUSE_OIDC_CLIENT_ID (and GATEHOUSE_OIDC_CLIENT_SECRET): the company OpenID Connect provider',
      '  PUT /api/admin/sso/oidc or PUT /api/admin/sso/saml: the same through the admin API, no restart',
      '  GATEHOUSE_DEV_SSO=you@example.com: a built-in development sign-in, to try Gatehouse on one machine',
    ].join('\n'),
  );
}

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** RFC 8628: show a code, let the person approve it in any browser, poll until they do. */
async function deviceSignIn(metadata: ServerMetadata, options: LoginOptions): Promise<TokenResponse> {
  let device: DeviceAuthorization;
  try {
    device = await oauthPost<DeviceAuthorization>(metadata.device_authorization_endpoint, {
      client_id: CLIENT_ID,
      device_name: hostname(),
    });
  } catch (error) {
    if (error instanceof OAuthError && error.body.error === SSO_NOT_CONFIGURED) {
      throw ssoNotConfigured(metadata.issuer);
    }
    if (error instanceof OAuthError) throw new CliError(`Sign-in failed: ${error.message}`, ExitCode.failure);
    throw error;
  }
  const url = device.verification_uri_complete ?? device.verification_uri;
  note('To sign in, open this address in a browser (on any device):');
  note('');
  note(url);
  note('');
  note(`and check that it shows the code ${paint(process.stderr, 'bold', device.user_code)}.`);
  if (options.browser && canOpenBrowser()) await openBrowser(url);

  let intervalMs = Math.max(1, device.interval ?? 5) * 1000;
  const deadline = Date.now() + device.expires_in * 1000;
  return withSpinner('Waiting for you to approve the sign-in…', async () => {
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      try {
        return await oauthPost<TokenResponse>(metadata.token_endpoint, {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: device.device_code,
          client_id: CLIENT_ID,
        });
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        switch (error.body.error) {
          case 'authorization_pending':
            continue;
          case 'slow_down':
            intervalMs += 5_000;
            continue;
          case 'access_denied':
            throw new CliError('The sign-in was denied in the browser.', ExitCode.notSignedIn);
          case 'expired_token':
            throw new CliError(
              'The code expired before it was approved.',
              ExitCode.notSignedIn,
              'Run gatehouse login again.',
            );
          default:
            throw new CliError(`Sign-in failed: ${error.message}`, ExitCode.notSignedIn);
        }
      }
    }
    throw new CliError(
      'The code expired before it was approved.',
      ExitCode.notSignedIn,
      'Run gatehouse login again.',
    );
  });
}

/** RFC 8252: a one-shot listener on 127.0.0.1 receives the browser's redirect; PKCE binds it. */
async function loopbackSignIn(metadata: ServerMetadata, options: LoginOptions): Promise<TokenResponse> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  try {
    const code = new Promise<string>((resolve, reject) => {
      server.on('request', (request, response) => {
        const url = new URL(request.url ?? '/', redirectUri);
        if (url.pathname !== '/callback') {
          response.writeHead(404).end();
          return;
        }
        const error = url.searchParams.get('error');
        const done = (message: string) => {
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          response.end(`<!doctype html><title>Gatehouse</title><p>${message}</p>`);
        };
        if (url.searchParams.get('state') !== state) {
          done('This sign-in did not come from your terminal. Close this tab.');
          return;
        }
        if (error === SSO_NOT_CONFIGURED) {
          done('This Gatehouse server has no single sign-on yet. Your terminal says what to set.');
          reject(ssoNotConfigured(metadata.issuer));
          return;
        }
        if (error) {
          done('Sign-in cancelled. You can close this tab.');
          reject(
            new CliError(
              error === 'access_denied'
                ? 'The sign-in was denied in the browser.'
                : `Sign-in failed: ${error}`,
              ExitCode.notSignedIn,
            ),
          );
          return;
        }
        const issuer = url.searchParams.get('iss');
        if (issuer !== null && issuer !== metadata.issuer) {
          done('This sign-in came from another server. Close this tab.');
          reject(
            new CliError(
              'The browser returned from a different server than the one asked.',
              ExitCode.notSignedIn,
            ),
          );
          return;
        }
        done('Signed in. You can close this tab and return to your terminal.');
        resolve(url.searchParams.get('code') ?? '');
      });
    });
    const authorize = new URL(metadata.authorization_endpoint);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: redirectUri,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
      device_name: hostname(),
    }).toString();
    note('Opening your browser to sign in. If it does not open, visit:');
    note('');
    note(authorize.toString());
    note('');
    if (options.browser) await openBrowser(authorize.toString());
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new CliError('Timed out waiting for the browser.', ExitCode.notSignedIn)),
        LOOPBACK_TIMEOUT_MS,
      ).unref(),
    );
    const authorizationCode = await withSpinner('Waiting for the browser…', () =>
      Promise.race([code, timeout]),
    );
    return await oauthPost<TokenResponse>(metadata.token_endpoint, {
      grant_type: 'authorization_code',
      code: authorizationCode,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: CLIENT_ID,
    });
  } finally {
    server.close();
    server.closeAllConnections();
  }
}
