import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../security/loopback.js';
import { insertAuthorizationCode, spendAuthorizationCode } from '../../store/cli-auth.js';
import { getUser } from '../../store/users.js';
import { pageHeaders } from '../html.js';
import {
  approvingSession,
  deviceNameOf,
  formOf,
  PUBLIC_CLIENTS,
  type SignInFlow,
  SSO_NOT_CONFIGURED,
  signInUrl,
} from './context.js';
import { approvalPage, resultPage } from './pages.js';
import { OAuthError } from './tokens.js';

const AUTHORIZATION_CODE_TTL_SECONDS = 120;

/**
 * Loopback sign-in with PKCE (RFC 8252), for one-click desktop sign-in: the CLI listens on
 * 127.0.0.1, opens the approval page, and gets a code back on its redirect, which the token
 * endpoint exchanges (see {@link codeToken}).
 */
export function loopbackFlowRoutes(app: FastifyInstance, flow: SignInFlow): void {
  const { options } = flow;
  const { db, box, sessions } = options;

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
    const session = await approvingSession(sessions, request, body, 'Start the sign-in again.');
    if ('refusal' in session) return html(...session.refusal);
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
}

/** The token endpoint's answer to an authorization code. */
export async function codeToken(
  flow: SignInFlow,
  body: Record<string, string | undefined>,
  clientId: string,
  request: FastifyRequest,
) {
  if (!body.code || !body.code_verifier || !body.redirect_uri) {
    throw new OAuthError('invalid_request', 'code, code_verifier and redirect_uri are required.');
  }
  const { db, box } = flow.options;
  const code = await spendAuthorizationCode(db, box.hashToken(body.code), flow.options.now());
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
  return flow.tokens.start(user, code.clientId, code.deviceName, request);
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
