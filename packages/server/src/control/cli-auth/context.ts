import { isRecord } from '@gatehouse/core';
import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../../gateway/index.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import type { AuditTrail } from '../audit/trail.js';
import type { SignedIn, WebSessions } from '../sso/web-sessions.js';
import type { SignInAttemptLimits } from './attempt-limits.js';
import type { SelfStatusOptions } from './status.js';
import { type CliTokens, OAuthError } from './tokens.js';

/*
 * What the CLI sign-in's flows share (routes.ts, device-flow.ts, loopback-flow.ts): the server's
 * options, the public clients, the answer without SSO, and reading a sign-in form.
 */

export interface CliAuthRouteOptions {
  /** What `gatehouse status` reads: the caller's budgets and providers. */
  status: Omit<SelfStatusOptions, 'authenticator' | 'now'>;
  db: Database;
  box: SecretBox;
  sessions: WebSessions;
  authenticator: Authenticator;
  publicUrl: string;
  /** Whether any organisation has single sign-on: without it, no device code can be approved. */
  signInConfigured(): Promise<boolean>;
  /** Limits on asking for device codes and on guessing user codes. */
  attempts: SignInAttemptLimits;
  onKeysChange(): void;
  /** Device approvals, minted keys and sign-outs are recorded here. */
  audit: AuditTrail;
  now(): Date;
}

/** What each sign-in flow's routes work with: the server's options and the one token issuer. */
export interface SignInFlow {
  options: CliAuthRouteOptions;
  tokens: CliTokens;
  /** The sign-in endpoints' public base URL. */
  base: string;
}

/**
 * Public clients that may sign in. They hold no secret: the device code or the PKCE verifier is
 * what proves the caller started the sign-in, and the client id only names who asks.
 */
export const PUBLIC_CLIENTS = new Map([
  ['gatehouse-cli', 'Gatehouse CLI'],
  ['claude-code', 'Claude Code'],
]);
/**
 * Claude Code's built-in gateway sign-in sends no `client_id` at all (an empty device
 * authorization request, then bare `grant_type` + code); requests without one are its.
 */
const CLIENT_WITHOUT_ID = 'claude-code';

export function clientIdOf(fields: Record<string, string | undefined>): string | undefined {
  const clientId = fields.client_id ?? CLIENT_WITHOUT_ID;
  return PUBLIC_CLIENTS.has(clientId) ? clientId : undefined;
}

/**
 * The answer to a sign-in on a server with no identity provider (an RFC 6749 §5.2 extension
 * error, 400), naming the settings that would give it one.
 */
export const SSO_NOT_CONFIGURED = new OAuthError(
  'sso_not_configured',
  'Single sign-on is not set up on this Gatehouse server, so no sign-in can be approved. ' +
    'Set GATEHOUSE_OIDC_ISSUER and GATEHOUSE_OIDC_CLIENT_ID (and GATEHOUSE_OIDC_CLIENT_SECRET), ' +
    'or PUT /api/admin/sso/oidc or /api/admin/sso/saml; to try it on one machine, ' +
    'start the server with GATEHOUSE_DEV_SSO=you@example.com.',
);

/**
 * The session behind an approval form's POST, or the result page to answer with: 401 when the
 * session ended, 403 when the form did not come from our page (its CSRF token). `startOver`
 * tells the person how to begin again.
 */
export async function approvingSession(
  sessions: WebSessions,
  request: FastifyRequest,
  form: Record<string, string | undefined>,
  startOver: string,
): Promise<SignedIn | { refusal: [status: number, title: string, message: string] }> {
  const session = await sessions.current(request);
  if (!session) return { refusal: [401, 'Not signed in', `Your session ended. ${startOver}`] };
  if (!sessions.verifyCsrf(request, session, form.csrf_token))
    return { refusal: [403, 'Request refused', `This form did not come from this page. ${startOver}`] };
  return session;
}

export function signInUrl(returnTo: string): string {
  return `/api/auth/sso/login?return_to=${encodeURIComponent(returnTo)}`;
}

/** Form fields (RFC 6749 uses application/x-www-form-urlencoded); JSON bodies are accepted too. */
export function formOf(request: FastifyRequest): Record<string, string | undefined> {
  const body = request.body;
  if (!isRecord(body)) return {};
  const fields: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

export function deviceNameOf(value: string | undefined): string | null {
  const name = value
    ?.replace(/[^\p{L}\p{N} ._@()-]/gu, '')
    .trim()
    .slice(0, 100);
  return name ? name : null;
}
