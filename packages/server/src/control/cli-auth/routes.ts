import { createHash, randomBytes, randomInt } from 'node:crypto';
import { isRecord } from '@gatehouse/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Authenticator, bearerToken } from '../../gateway/index.js';
import { isLoopbackHost } from '../../security/loopback.js';
import type { SecretBox } from '../../security/secret-box.js';
import {
  decideDevice,
  findDeviceByDeviceCode,
  findDeviceByUserCode,
  findRefreshToken,
  grantOfKey,
  insertAuthorizationCode,
  insertDeviceAuthorization,
  pruneCliAuth,
  recordDevicePoll,
  spendAuthorizationCode,
  spendDevice,
} from '../../store/cli-auth.js';
import type { Database } from '../../store/database.js';
import { getOrganization } from '../../store/organizations.js';
import { getUser } from '../../store/users.js';
import { type AuditTrail, personActor } from '../audit/trail.js';
import { pageHeaders } from '../html.js';
import type { WebSessions } from '../sso/web-sessions.js';
import type { SignInAttemptLimits } from './attempt-limits.js';
import { approvalPage, enterCodePage, resultPage } from './pages.js';
import { type SelfStatusOptions, selfStatusRoute } from './status.js';
import { CliTokens, OAuthError, REFRESH_TOKEN_PREFIX, sendOAuthError } from './tokens.js';

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

function clientIdOf(fields: Record<string, string | undefined>): string | undefined {
  const clientId = fields.client_id ?? CLIENT_WITHOUT_ID;
  return PUBLIC_CLIENTS.has(clientId) ? clientId : undefined;
}

const DEVICE_CODE_TTL_SECONDS = 600;
const POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: each slow_down adds five seconds to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;
const AUTHORIZATION_CODE_TTL_SECONDS = 120;
/** RFC 8628 §6.1: consonants only, no look-alikes, so codes read aloud and never spell words. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/**
 * The answer to a sign-in on a server with no identity provider (an RFC 6749 §5.2 extension
 * error, 400), naming the settings that would give it one.
 */
const SSO_NOT_CONFIGURED = new OAuthError(
  'sso_not_configured',
  'Single sign-on is not set up on this Gatehouse server, so no sign-in can be approved. ' +
    'Set GATEHOUSE_OIDC_ISSUER and GATEHOUSE_OIDC_CLIENT_ID (and GATEHOUSE_OIDC_CLIENT_SECRET), ' +
    'or PUT /api/admin/sso/oidc or /api/admin/sso/saml; to try it on one machine, ' +
    'start the server with GATEHOUSE_DEV_SSO=you@example.com.',
);

/**
 * CLI sign-in, as an OAuth 2.0 authorization server for public clients: the device
 * authorization grant (RFC 8628) for terminals and SSH sessions, loopback redirect with PKCE
 * (RFC 8252) for one-click desktop sign-in, refresh-token rotation, key minting and sign-out.
 * Discovered through RFC 8414 metadata at the origin.
 */
export async function cliAuthRoutes(app: FastifyInstance, options: CliAuthRouteOptions): Promise<void> {
  const { db, box, sessions } = options;
  const tokens = new CliTokens({
    db,
    box,
    onKeysChange: options.onKeysChange,
    audit: options.audit,
    now: options.now,
  });
  const base = `${options.publicUrl}/api/auth/cli`;
  selfStatusRoute(app, { ...options.status, authenticator: options.authenticator, now: options.now });

  const metadata = () => ({
    issuer: options.publicUrl,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    device_authorization_endpoint: `${base}/device/code`,
    revocation_endpoint: `${base}/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
  });
  // RFC 8414 §3 puts the document for an issuer with a path at the origin with the path
  // appended; Claude Code appends `/.well-known/…` to whatever gateway URL it was given. A
  // client configured with `…/api` finds it either way.
  for (const path of [
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/api',
    '/api/.well-known/oauth-authorization-server',
  ]) {
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(metadata()),
    );
  }

  app.post('/api/auth/cli/device/code', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    const clientId = clientIdOf(body);
    if (!clientId) return sendOAuthError(reply, new OAuthError('invalid_client', 'Unknown client_id.', 401));
    // A code nobody can approve would keep the CLI waiting for ten minutes; say what to set now.
    if (!(await options.signInConfigured())) return sendOAuthError(reply, SSO_NOT_CONFIGURED);
    const wait = await options.attempts.deviceCode(request.ip);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return sendOAuthError(
        reply,
        new OAuthError('slow_down', `Too many sign-ins from here; retry in ${wait} s.`, 429),
      );
    }
    const now = options.now();
    await pruneCliAuth(db, now);
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = newUserCode();
    await insertDeviceAuthorization(db, {
      deviceCodeHash: box.hashToken(deviceCode),
      userCodeHash: box.hashToken(normaliseUserCode(userCode)),
      clientId,
      deviceName: deviceNameOf(body.device_name),
      intervalSeconds: POLL_INTERVAL_SECONDS,
      expiresAt: new Date(now.getTime() + DEVICE_CODE_TTL_SECONDS * 1000),
    });
    const verificationUri = `${base}/device`;
    return reply.header('cache-control', 'no-store').send({
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${userCode}`,
      expires_in: DEVICE_CODE_TTL_SECONDS,
      interval: POLL_INTERVAL_SECONDS,
    });
  });

  // The verification page: signs the person in through SSO if needed, then shows which device
  // and which organisation they are approving.
  app.get('/api/auth/cli/device', { schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.current(request);
    if (!session) return reply.redirect(signInUrl(request.url), 303);
    const userCode = (request.query as Record<string, string | undefined>).user_code;
    const html = (body: string, status = 200, retryAfter?: number) =>
      reply
        .code(status)
        .headers(retryAfter ? { ...pageHeaders, 'retry-after': String(retryAfter) } : pageHeaders)
        .send(body);
    if (!userCode) return html(enterCodePage());
    const wait = await options.attempts.codeEntry(request.ip, session.user.id);
    if (wait !== undefined) return html(enterCodePage(tooManyTries(wait)), 429, wait);
    const device = await findDeviceByUserCode(db, box.hashToken(normaliseUserCode(userCode)));
    if (device?.state !== 'pending' || device.expiresAt <= options.now()) {
      return html(enterCodePage('That code is not valid or has expired. Check your terminal.'), 404);
    }
    return html(
      approvalPage({
        what: 'Sign in a device',
        userCode: formatUserCode(normaliseUserCode(userCode)),
        deviceName: device.deviceName,
        clientName: PUBLIC_CLIENTS.get(device.clientId) ?? device.clientId,
        organizationName: session.organization.name,
        email: session.user.email,
        csrfToken: session.csrfToken,
        fields: { user_code: normaliseUserCode(userCode) },
        action: '/api/auth/cli/device',
      }),
    );
  });

  app.post('/api/auth/cli/device', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    const html = (status: number, title: string, message: string) =>
      reply.code(status).headers(pageHeaders).send(resultPage(title, message));
    const session = await sessions.current(request);
    if (!session)
      return html(401, 'Not signed in', 'Your session ended. Open the link from your terminal again.');
    if (!sessions.verifyCsrf(request, session, body.csrf_token)) {
      return html(403, 'Request refused', 'This form did not come from this page. Open the link again.');
    }
    const wait = await options.attempts.codeEntry(request.ip, session.user.id);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return html(429, 'Too many tries', tooManyTries(wait));
    }
    const device = body.user_code
      ? await findDeviceByUserCode(db, box.hashToken(normaliseUserCode(body.user_code)))
      : undefined;
    const decision =
      body.decision === 'approve'
        ? ({ state: 'approved', organizationId: session.organization.id, userId: session.user.id } as const)
        : ({ state: 'denied' } as const);
    if (!device || !(await decideDevice(db, device.id, decision, options.now()))) {
      return html(404, 'Code not valid', 'That code is not valid, has expired or was already used.');
    }
    await options.audit.record({
      organizationId: session.organization.id,
      actor: personActor(session.user),
      action: decision.state === 'approved' ? 'device.approve' : 'device.deny',
      target: { type: 'device_authorization', id: device.id },
      before: null,
      after: { clientId: device.clientId, deviceName: device.deviceName, userId: session.user.id },
      request,
    });
    return decision.state === 'approved'
      ? html(200, 'Device approved', 'You are signed in. Return to your terminal.')
      : html(200, 'Request denied', 'The device was not signed in. You can close this page.');
  });

  // RFC 8252 loopback sign-in: the CLI listens on 127.0.0.1 and opens this page.
  app.get('/api/auth/cli/authorize', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const html = (status: number, title: string, message: string) =>
      reply.code(status).headers(pageHeaders).send(resultPage(title, message));
    if (!query.client_id || !PUBLIC_CLIENTS.has(query.client_id))
      return html(400, 'Sign-in failed', 'Unknown client.');
    if (!isLoopbackRedirect(query.redirect_uri)) {
      return html(
        400,
        'Sign-in failed',
        'The redirect address must be http://127.0.0.1, [::1] or localhost.',
      );
    }
    // From here on, errors go back to the waiting CLI (RFC 6749 §4.1.2.1).
    const back = (error: string, description: string) =>
      reply.redirect(
        redirectWith(query.redirect_uri as string, {
          error,
          error_description: description,
          state: query.state,
        }),
        303,
      );
    if (query.response_type !== 'code')
      return back('unsupported_response_type', 'response_type must be code');
    if (query.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(query.code_challenge ?? '')) {
      return back('invalid_request', 'PKCE with code_challenge_method=S256 is required');
    }
    const session = await sessions.current(request);
    if (!session) {
      if (!(await options.signInConfigured())) {
        return back(SSO_NOT_CONFIGURED.error, SSO_NOT_CONFIGURED.description);
      }
      return reply.redirect(signInUrl(request.url), 303);
    }
    return reply.headers(pageHeaders).send(
      approvalPage({
        what: 'Sign in the Gatehouse CLI',
        deviceName: deviceNameOf(query.device_name),
        clientName: PUBLIC_CLIENTS.get(query.client_id) ?? query.client_id,
        organizationName: session.organization.name,
        email: session.user.email,
        csrfToken: session.csrfToken,
        fields: {
          client_id: query.client_id,
          redirect_uri: query.redirect_uri as string,
          code_challenge: query.code_challenge as string,
          state: query.state ?? '',
          device_name: deviceNameOf(query.device_name) ?? '',
        },
        action: '/api/auth/cli/authorize',
      }),
    );
  });

  app.post('/api/auth/cli/authorize', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    const html = (status: number, title: string, message: string) =>
      reply.code(status).headers(pageHeaders).send(resultPage(title, message));
    const session = await sessions.current(request);
    if (!session) return html(401, 'Not signed in', 'Your session ended. Start the sign-in again.');
    if (!sessions.verifyCsrf(request, session, body.csrf_token)) {
      return html(403, 'Request refused', 'This form did not come from this page. Start the sign-in again.');
    }
    if (
      !body.client_id ||
      !PUBLIC_CLIENTS.has(body.client_id) ||
      !isLoopbackRedirect(body.redirect_uri) ||
      !body.code_challenge
    ) {
      return html(400, 'Sign-in failed', 'The sign-in request is incomplete. Start again.');
    }
    const state = body.state || undefined;
    if (body.decision !== 'approve') {
      return reply.redirect(
        redirectWith(body.redirect_uri as string, { error: 'access_denied', state }),
        303,
      );
    }
    const code = randomBytes(32).toString('base64url');
    await insertAuthorizationCode(db, {
      codeHash: box.hashToken(code),
      clientId: body.client_id,
      redirectUri: body.redirect_uri as string,
      codeChallenge: body.code_challenge,
      deviceName: deviceNameOf(body.device_name),
      organizationId: session.organization.id,
      userId: session.user.id,
      expiresAt: new Date(options.now().getTime() + AUTHORIZATION_CODE_TTL_SECONDS * 1000),
      usedAt: null,
    });
    // RFC 9207: name the issuer, so the CLI knows which server the code came from.
    return reply.redirect(
      redirectWith(body.redirect_uri as string, { code, state, iss: options.publicUrl }),
      303,
    );
  });

  app.post('/api/auth/cli/token', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    try {
      const clientId = clientIdOf(body);
      if (!clientId) throw new OAuthError('invalid_client', 'Unknown client_id.', 401);
      switch (body.grant_type) {
        case DEVICE_GRANT:
          return await deviceToken(body.device_code, clientId, request);
        case 'authorization_code':
          return await codeToken(body, clientId, request);
        case 'refresh_token':
          if (!body.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
          return await tokens.refresh(body.refresh_token, clientId, request);
        default:
          throw new OAuthError(
            'unsupported_grant_type',
            `grant_type ${body.grant_type ?? '(missing)'} is not supported.`,
          );
      }
    } catch (error) {
      if (error instanceof OAuthError) return sendOAuthError(reply, error);
      throw error;
    }
  });

  // A fresh personal key for this device, before the current one runs out.
  app.post('/api/auth/cli/keys', { schema: { hide: true } }, async (request, reply) => {
    try {
      const grantId = await grantOfBearer(request);
      return reply.header('cache-control', 'no-store').send(await tokens.mint(grantId, request));
    } catch (error) {
      if (error instanceof OAuthError) return sendOAuthError(reply, error);
      throw error;
    }
  });

  // Sign-out (RFC 7009 shape): the refresh token or the key names the device; it and every key
  // minted for it stop working. Always 200, so the endpoint says nothing about unknown tokens.
  app.post('/api/auth/cli/revoke', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    const presented = body.token ?? bearerToken(request.headers);
    if (presented) {
      const grantId = presented.startsWith(REFRESH_TOKEN_PREFIX)
        ? (await findRefreshToken(db, box.hashToken(presented)))?.grantId
        : await grantOfKey(db, box.hashVirtualKey(presented));
      if (grantId) await tokens.revoke(grantId, request, 'sign_out');
    }
    return reply.code(200).send({});
  });

  // Who the CLI is signed in as: person, organisation, personal project, key expiry.
  app.get('/api/auth/cli/whoami', { schema: { hide: true } }, async (request, reply) => {
    let resolved: Awaited<ReturnType<Authenticator['authenticate']>>;
    try {
      resolved = await options.authenticator.authenticate(bearerToken(request.headers));
    } catch (error) {
      return sendOAuthError(reply, new OAuthError('invalid_token', (error as Error).message, 401));
    }
    const organization = await getOrganization(db, resolved.organizationId);
    const user = resolved.personal
      ? await getUser(db, resolved.organizationId, resolved.principalId)
      : undefined;
    return {
      user: user ? { id: user.id, email: user.email, name: user.name } : null,
      organization: { id: resolved.organizationId, name: organization?.name ?? resolved.organizationId },
      project: { id: resolved.projectId },
      key: {
        id: resolved.keyId,
        personal: resolved.personal,
        expiresAt: resolved.expiresAt === undefined ? null : new Date(resolved.expiresAt).toISOString(),
      },
    };
  });

  async function deviceToken(deviceCode: string | undefined, clientId: string, request: FastifyRequest) {
    if (!deviceCode) throw new OAuthError('invalid_request', 'device_code is required.');
    const device = await findDeviceByDeviceCode(db, box.hashToken(deviceCode));
    if (!device || device.clientId !== clientId || device.state === 'spent') {
      throw new OAuthError('invalid_grant', 'The device code is not valid.');
    }
    const now = options.now();
    if (device.expiresAt <= now)
      throw new OAuthError('expired_token', 'The device code has expired. Start again.');
    if (device.state === 'denied') throw new OAuthError('access_denied', 'The sign-in was denied.');
    if (device.state === 'pending') {
      const tooSoon =
        device.lastPolledAt !== null &&
        now.getTime() - device.lastPolledAt.getTime() < device.intervalSeconds * 1000;
      const interval = tooSoon ? device.intervalSeconds + SLOW_DOWN_STEP_SECONDS : device.intervalSeconds;
      await recordDevicePoll(db, device.id, now, interval);
      if (tooSoon) throw new OAuthError('slow_down', `Poll at most every ${interval} seconds.`);
      throw new OAuthError('authorization_pending', 'Waiting for the sign-in to be approved.');
    }
    // Approved: exactly one poll wins the tokens.
    if (!device.userId || !device.organizationId || !(await spendDevice(db, device.id, 'approved'))) {
      throw new OAuthError('invalid_grant', 'The device code is not valid.');
    }
    const user = await getUser(db, device.organizationId, device.userId);
    if (!user || user.disabledAt) throw new OAuthError('access_denied', 'Your account is deactivated.');
    return tokens.start(user, clientId, device.deviceName, request);
  }

  async function codeToken(
    body: Record<string, string | undefined>,
    clientId: string,
    request: FastifyRequest,
  ) {
    if (!body.code || !body.code_verifier || !body.redirect_uri) {
      throw new OAuthError('invalid_request', 'code, code_verifier and redirect_uri are required.');
    }
    const code = await spendAuthorizationCode(db, box.hashToken(body.code), options.now());
    const challenge = createHash('sha256').update(body.code_verifier).digest('base64url');
    if (
      !code ||
      code.clientId !== clientId ||
      code.redirectUri !== body.redirect_uri ||
      code.codeChallenge !== challenge
    ) {
      throw new OAuthError('invalid_grant', 'The authorization code is not valid.');
    }
    const user = await getUser(db, code.organizationId, code.userId);
    if (!user || user.disabledAt) throw new OAuthError('access_denied', 'Your account is deactivated.');
    return tokens.start(user, code.clientId, code.deviceName, request);
  }

  async function grantOfBearer(request: FastifyRequest): Promise<string> {
    const presented = bearerToken(request.headers);
    try {
      await options.authenticator.authenticate(presented);
    } catch (error) {
      throw new OAuthError('invalid_token', (error as Error).message, 401);
    }
    const grantId = await grantOfKey(db, box.hashVirtualKey(presented as string));
    if (!grantId) throw new OAuthError('invalid_token', 'This key was not issued by a CLI sign-in.', 401);
    return grantId;
  }
}

function signInUrl(returnTo: string): string {
  return `/api/auth/sso/login?return_to=${encodeURIComponent(returnTo)}`;
}

/** Form fields (RFC 6749 uses application/x-www-form-urlencoded); JSON bodies are accepted too. */
function formOf(request: FastifyRequest): Record<string, string | undefined> {
  const body = request.body;
  if (!isRecord(body)) return {};
  const fields: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

function newUserCode(): string {
  let code = '';
  for (let index = 0; index < 8; index++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return formatUserCode(code);
}

function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** People type codes in any case, with or without the dash or spaces. */
function normaliseUserCode(entered: string): string {
  return entered
    .toUpperCase()
    .replace(/[^A-Z]/g, '')
    .slice(0, 16);
}

function deviceNameOf(value: string | undefined): string | null {
  const name = value
    ?.replace(/[^\p{L}\p{N} ._@()-]/gu, '')
    .trim()
    .slice(0, 100);
  return name ? name : null;
}

/** RFC 8252 §7.3: http on a loopback address, any port. */
function isLoopbackRedirect(value: string | undefined): boolean {
  if (!value || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    url.protocol === 'http:' &&
    isLoopbackHost(url.hostname) &&
    url.username === '' &&
    url.password === '' &&
    url.hash === ''
  );
}

function redirectWith(target: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(target);
  for (const [name, value] of Object.entries(parameters))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

function tooManyTries(waitSeconds: number): string {
  return `Too many codes tried. Wait ${waitSeconds} seconds, then check the code in your terminal.`;
}
