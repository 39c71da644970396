import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, page, pageHeaders } from '../html.js';
import type { OidcConnection } from './connections.js';

/**
 * A development identity provider inside the server (`GATEHOUSE_DEV_SSO`), so personal keys can
 * be tried on one laptop without a company IdP. It is a real OpenID Connect provider (panva's
 * oidc-provider) mounted under `/api/dev-idp`, and the default organisation's OIDC connection
 * points at it: sign-in goes through exactly the path a real provider's does (discovery, code +
 * PKCE, signed ID token, `admitIdentity`). Its one difference is the login page: an account
 * picker for the listed addresses, with no password. Config refuses it off loopback.
 */

export const DEV_IDP_PATH = '/api/dev-idp';
/** The relying party (Gatehouse's own SSO) as registered at the development provider. */
export const DEV_IDP_CLIENT_ID = 'gatehouse-dev-sso';

export interface DevIdentityProviderOptions {
  /** Gatehouse's public URL: the issuer and the redirect URI are derived from it. */
  publicUrl: string;
  /** Who may be picked; each address is also the account's subject. */
  emails: string[];
}

/** The OIDC connection that sends the default organisation's sign-ins to the development provider. */
export function devIdpConnection(publicUrl: string): OidcConnection {
  return {
    protocol: 'oidc',
    issuer: `${publicUrl}${DEV_IDP_PATH}`,
    clientId: DEV_IDP_CLIENT_ID,
    clientSecret: undefined,
  };
}

/** The line `gatehouse serve` prints at start while the development provider is on. */
export function devIdpWarning(emails: string[]): string {
  return `WARNING: the development identity provider is on (GATEHOUSE_DEV_SSO): anyone who can reach this server signs in as ${emails.join(', ')} without a password. Do not use it for real people.`;
}

const SCOPE = 'openid email profile';

export async function devIdentityProviderRoutes(
  app: FastifyInstance,
  options: DevIdentityProviderOptions,
): Promise<void> {
  const issuer = `${options.publicUrl}${DEV_IDP_PATH}`;
  const allowed = new Set(options.emails);
  const provider = await createProvider(issuer, options, app.log);

  const picker = (reply: FastifyReply, uid: string, notice?: string) =>
    reply.headers(pageHeaders).send(
      page(
        'Development sign-in',
        html`<p>This is Gatehouse's development identity provider (GATEHOUSE_DEV_SSO), for trying Gatehouse on one machine. Pick who you are:</p>
${notice ? html`<p><strong>${notice}</strong></p>` : ''}
<form method="post" action="${DEV_IDP_PATH}/interaction/${uid}">
${options.emails.map((email) => html`<p><button class="primary" type="submit" name="email" value="${email}">${email}</button></p>`)}
</form>`,
      ),
    );

  app.get(`${DEV_IDP_PATH}/interaction/:uid`, { schema: { hide: true } }, async (request, reply) => {
    const interaction = await provider.interactionDetails(request.raw, reply.raw);
    return picker(reply, interaction.uid);
  });

  app.post(`${DEV_IDP_PATH}/interaction/:uid`, { schema: { hide: true } }, async (request, reply) => {
    const interaction = await provider.interactionDetails(request.raw, reply.raw);
    const email = (request.body as Record<string, unknown> | undefined)?.email;
    if (typeof email !== 'string' || !allowed.has(email)) {
      return picker(reply.code(400), interaction.uid, 'Pick one of the listed addresses.');
    }
    // Consent is given with the login: the only client is Gatehouse itself, asking for the
    // identity claims it needs, so a consent page would only be one more click.
    const grant = new provider.Grant({ accountId: email, clientId: DEV_IDP_CLIENT_ID });
    grant.addOIDCScope(SCOPE);
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(
      request.raw,
      reply.raw,
      { login: { accountId: email }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    return reply.redirect(returnTo, 303);
  });

  // Everything else under the prefix is the provider's own (discovery, authorize, token, JWKS,
  // userinfo). It reads the request body itself, so this scope parses none.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const handle = provider.callback();
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      const raw: IncomingMessage & { originalUrl?: string } = request.raw;
      // Mounted like Express's `app.use(prefix, …)`: the provider sees paths below its issuer
      // and works out the prefix from `originalUrl`.
      const original = raw.url ?? '/';
      raw.originalUrl = original;
      raw.url = original.slice(DEV_IDP_PATH.length) || '/';
      if (!raw.url.startsWith('/')) raw.url = `/${raw.url}`;
      handle(raw, reply.raw);
    };
    scope.all(DEV_IDP_PATH, { schema: { hide: true } }, forward);
    scope.all(`${DEV_IDP_PATH}/*`, { schema: { hide: true } }, forward);
  });
}

async function createProvider(issuer: string, options: DevIdentityProviderOptions, log: FastifyBaseLogger) {
  // oidc-provider warns on import and construction about what a development provider is meant
  // to be (in-memory storage, a Node.js release it prefers): true, and alarming in a newcomer's
  // terminal, so its warnings go to the debug log while it loads.
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => log.debug(parts.map(String).join(' '));
  try {
    const { default: Provider, interactionPolicy } = await import('oidc-provider');
    // The picker is shown at every sign-in, even when this provider remembers someone, so
    // trying Gatehouse as another of the listed people needs no fresh browser.
    const policy = interactionPolicy.base();
    policy
      .get('login')
      ?.checks.push(
        new interactionPolicy.Check(
          'pick_every_time',
          'the development provider asks who you are at every sign-in',
          (context) => context.oidc.result?.login === undefined,
        ),
      );
    // A signing key per start: the ID token is checked moments after it is signed, and the
    // relying party rediscovers the keys after a restart.
    const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    });
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: DEV_IDP_CLIENT_ID,
          token_endpoint_auth_method: 'none',
          application_type: 'web',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: [`${options.publicUrl}/api/auth/sso/oidc/callback`],
        },
      ],
      jwks: { keys: [{ ...signingKey, kid: 'dev-idp-rs256', alg: 'RS256', use: 'sig' }] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      scopes: ['openid', 'email', 'profile'],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      // The identity claims go into the ID token, not only behind the userinfo endpoint.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      // Lifetimes in seconds, given so the provider does not print a notice for each default.
      ttl: {
        Interaction: 600,
        Session: 43_200,
        Grant: 43_200,
        AuthorizationCode: 60,
        AccessToken: 600,
        IdToken: 600,
      },
      features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
      interactions: {
        policy,
        url: (_context: unknown, interaction: { uid: string }) =>
          `${DEV_IDP_PATH}/interaction/${interaction.uid}`,
      },
      async findAccount(_context: unknown, subject: string) {
        if (!options.emails.includes(subject)) return undefined;
        return {
          accountId: subject,
          async claims() {
            return { sub: subject, email: subject, email_verified: true, name: subject.split('@')[0] };
          },
        };
      },
    });
    provider.on('server_error', (_context, error) =>
      log.error({ err: error }, 'development identity provider failed'),
    );
    return provider;
  } finally {
    console.warn = warn;
  }
}
