import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Authenticator, bearerToken } from '../../gateway/index.js';
import { findRefreshToken, grantOfKey } from '../../store/cli-auth.js';
import { getOrganization } from '../../store/organizations.js';
import { getUser } from '../../store/users.js';
import { type CliAuthRouteOptions, clientIdOf, formOf, type SignInFlow } from './context.js';
import { DEVICE_GRANT, deviceFlowRoutes, deviceToken } from './device-flow.js';
import { codeToken, loopbackFlowRoutes } from './loopback-flow.js';
import { selfStatusRoute } from './status.js';
import { CliTokens, OAuthError, REFRESH_TOKEN_PREFIX, sendOAuthError } from './tokens.js';

export type { CliAuthRouteOptions } from './context.js';

/**
 * CLI sign-in, as an OAuth 2.0 authorization server for public clients: the device
 * authorization grant (RFC 8628) for terminals and SSH sessions, loopback redirect with PKCE
 * (RFC 8252) for one-click desktop sign-in, refresh-token rotation, key minting and sign-out.
 * Discovered through RFC 8414 metadata at the origin.
 */
export async function cliAuthRoutes(app: FastifyInstance, options: CliAuthRouteOptions): Promise<void> {
  const { db, box } = options;
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

  const flow: SignInFlow = { options, tokens, base };
  deviceFlowRoutes(app, flow);
  loopbackFlowRoutes(app, flow);

  app.post('/api/auth/cli/token', { schema: { hide: true } }, async (request, reply) => {
    const body = formOf(request);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    try {
      const clientId = clientIdOf(body);
      if (!clientId) throw new OAuthError('invalid_client', 'Unknown client_id.', 401);
      switch (body.grant_type) {
        case DEVICE_GRANT:
          return await deviceToken(flow, body.device_code, clientId, request);
        case 'authorization_code':
          return await codeToken(flow, body, clientId, request);
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
