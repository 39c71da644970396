import { callServer, jsonOf } from './server-call.js';
import { CliError, ExitCode } from './ui.js';

/**
 * The few Gatehouse endpoints the CLI calls: OAuth metadata and tokens (RFC 8414, 8628, 8252,
 * 6749), the signed-in person's own views and the admin API, all through `callServer` (one
 * deadline, one "server unreachable"); failures become errors that say what to do.
 */

export interface ServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint: string;
  revocation_endpoint: string;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  virtual_key: string;
  virtual_key_expires_at: string;
}

export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

/** An OAuth error answer (`authorization_pending`, `invalid_grant`, …). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly body: OAuthErrorBody,
  ) {
    super(body.error_description ?? body.error);
  }
}

export const CLIENT_ID = 'gatehouse-cli';

/** `GET /api/auth/cli/whoami`: who a key belongs to. */
export interface WhoAmI {
  user: { id: string; email: string; name: string | null } | null;
  organization: { id: string; name: string };
  project: { id: string };
  key: { id: string; expiresAt: string | null };
}

/** `GET /api/auth/cli/status`: the budgets that limit a key, and its providers' health. */
export interface SelfStatus {
  budgets: {
    name: string | null;
    scope: string;
    window: string;
    action: string;
    model: string | null;
    limitUsd: number;
    spentUsd: number;
    remainingUsd: number;
    resetsAt: string | null;
  }[];
  providers: { name: string; type: string; status: string; retryInSeconds: number | null }[];
}

/** Accepts `https://gatehouse.example.com`, a bare host, or a URL with `/api` on the end. */
export function normaliseServer(input: string): string {
  const withScheme = /^https?:\/\//i.test(input) ? input : `https://${input}`;
  if (!URL.canParse(withScheme)) throw new CliError(`Not a server address: ${input}`, ExitCode.usage);
  const url = new URL(withScheme);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) {
    throw new CliError(
      `Refusing plain http:// for ${url.host}: your sign-in would cross the network unencrypted.`,
      ExitCode.usage,
      'Use the https:// address (http:// is accepted only for localhost).',
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api$/, '')}`;
}

export async function discover(server: string): Promise<ServerMetadata> {
  const answer = await callServer(`${server}/.well-known/oauth-authorization-server`);
  if (!answer.ok) {
    throw new CliError(
      `${server} does not look like a Gatehouse server (sign-in metadata: HTTP ${answer.status}).`,
      ExitCode.serverUnavailable,
    );
  }
  return jsonOf<ServerMetadata>(answer, 'Sign-in metadata');
}

/** POSTs form parameters to an OAuth endpoint; OAuth errors come back as OAuthError. */
export async function oauthPost<T>(endpoint: string, fields: Record<string, string>): Promise<T> {
  const answer = await callServer(endpoint, { form: fields });
  const body = jsonOf<T & Partial<OAuthErrorBody>>(answer, 'Sign-in');
  if (!answer.ok) {
    if (typeof body.error === 'string') throw new OAuthError(answer.status, body as OAuthErrorBody);
    throw new CliError(`Sign-in failed: HTTP ${answer.status}.`, ExitCode.serverUnavailable);
  }
  return body;
}

/** GETs one of the signed-in person's own views with their key. */
export async function getWithKey<T>(server: string, path: string, key: string): Promise<T> {
  const answer = await callServer(`${server}${path}`, { bearer: key });
  if (answer.status === 401) {
    throw new CliError('Your sign-in has ended.', ExitCode.notSignedIn, 'Run: gatehouse login');
  }
  if (!answer.ok) throw new CliError(`${path}: HTTP ${answer.status}`, ExitCode.serverUnavailable);
  return jsonOf<T>(answer, path);
}

/**
 * Calls the admin API with an admin token: the parsed answer, or a CliError carrying the API's
 * own message (a 401 exits as "not signed in", so scripts can tell a bad token apart).
 */
export async function callAdminApi(
  server: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const answer = await callServer(`${server}/api/admin${path}`, { method, bearer: token, json: body });
  if (!answer.ok) {
    const message =
      (answer.body as { error?: { message?: string } } | undefined)?.error?.message ??
      `HTTP ${answer.status}`;
    throw new CliError(
      `${method} ${path}: ${message}`,
      answer.status === 401 ? ExitCode.notSignedIn : ExitCode.failure,
    );
  }
  return answer.body;
}
