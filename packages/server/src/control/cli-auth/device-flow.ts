import { randomBytes, randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  decideDevice,
  findDeviceByDeviceCode,
  findDeviceByUserCode,
  insertDeviceAuthorization,
  pruneCliAuth,
  recordDevicePoll,
  spendDevice,
} from '../../store/cli-auth.js';
import { getUser } from '../../store/users.js';
import { personActor } from '../audit/trail.js';
import { pageHeaders } from '../html.js';
import {
  approvingSession,
  clientIdOf,
  deviceNameOf,
  formOf,
  PUBLIC_CLIENTS,
  type SignInFlow,
  SSO_NOT_CONFIGURED,
  signInUrl,
} from './context.js';
import { approvalPage, enterCodePage, resultPage } from './pages.js';
import { OAuthError, sendOAuthError } from './tokens.js';

const DEVICE_CODE_TTL_SECONDS = 600;
const POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: each slow_down adds five seconds to the interval. */
const SLOW_DOWN_STEP_SECONDS = 5;
/** RFC 8628 §6.1: consonants only, no look-alikes, so codes read aloud and never spell words. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * The device authorization grant (RFC 8628), for terminals and SSH sessions: the CLI asks for
 * a code, the person approves it in a browser signed in through SSO, and the CLI's polls of the
 * token endpoint get the tokens (see {@link deviceToken}).
 */
export function deviceFlowRoutes(app: FastifyInstance, flow: SignInFlow): void {
  const { options, base } = flow;
  const { db, box, sessions } = options;

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
    const session = await approvingSession(
      sessions,
      request,
      body,
      'Open the link from your terminal again.',
    );
    if ('refusal' in session) return html(...session.refusal);
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
}

/** The token endpoint's answer to a device-code poll. */
export async function deviceToken(
  flow: SignInFlow,
  deviceCode: string | undefined,
  clientId: string,
  request: FastifyRequest,
) {
  const { db, box } = flow.options;
  if (!deviceCode) throw new OAuthError('invalid_request', 'device_code is required.');
  const device = await findDeviceByDeviceCode(db, box.hashToken(deviceCode));
  if (!device || device.clientId !== clientId || device.state === 'spent') {
    throw new OAuthError('invalid_grant', 'The device code is not valid.');
  }
  const now = flow.options.now();
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
  return flow.tokens.start(user, clientId, device.deviceName, request);
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

function tooManyTries(waitSeconds: number): string {
  return `Too many codes tried. Wait ${waitSeconds} seconds, then check the code in your terminal.`;
}
