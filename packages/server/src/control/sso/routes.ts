import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SecretBox } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { getOrganization, type Organization } from '../../store/organizations.js';
import { organizations, type SsoProtocol } from '../../store/schema.js';
import {
  pruneSsoState,
  saveSsoTransaction,
  spendNonce,
  takeSsoTransaction,
} from '../../store/sso-transactions.js';
import { type AuditTrail, personActor } from '../audit/trail.js';
import { html, page, pageHeaders } from '../html.js';
import { admitIdentity, SignInRefused, type VerifiedIdentity } from './admit-identity.js';
import type { SsoConnection, SsoConnections } from './connections.js';
import type { OidcPending, OidcSignIn } from './oidc.js';
import type { SamlSignIn } from './saml.js';
import type { WebSessions } from './web-sessions.js';

export interface SsoRouteOptions {
  db: Database;
  box: SecretBox;
  connections: SsoConnections;
  sessions: WebSessions;
  oidc: OidcSignIn;
  saml: SamlSignIn;
  defaultOrganizationId: string;
  /** Every sign-in, and every refused one, is recorded here. */
  audit: AuditTrail;
  now(): Date;
}

/** What sealed sign-in secrets are bound to (the SecretBox's authenticated data). */
const SEAL_BINDING = 'sso-transaction';

/** How long a person has to finish signing in at their identity provider. */
const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;

/**
 * Web sign-in through the organisation's identity provider. The paths are fixed because
 * identity providers register them: `/api/auth/sso/oidc/callback` (OIDC redirect URI),
 * `/api/auth/sso/saml/acs` and `/api/auth/sso/saml/metadata`. Every sign-in ends in a browser
 * session and back at the page that asked for it (the device approval page, the web UI).
 */
export async function ssoRoutes(app: FastifyInstance, options: SsoRouteOptions): Promise<void> {
  const { db, box, connections, sessions } = options;

  const showPage = (reply: FastifyReply, status: number, title: string, message: string) =>
    reply
      .code(status)
      .headers(pageHeaders)
      .send(page(title, html`<p>${message}</p>`));

  app.get('/api/auth/sso/login', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const returnTo = safeReturnPath(query.return_to);
    const organization = await organizationFor(query);
    if (!organization) return showPage(reply, 404, 'Sign-in', 'No organisation matches that email or name.');
    const connection = await connectionFor(organization.id, query.protocol);
    if (!connection) {
      return showPage(reply, 404, 'Sign-in', `Single sign-on is not set up for ${organization.name}.`);
    }
    // Sign-ins that were started and never finished would otherwise pile up.
    await pruneSsoState(db, options.now());
    if (connection.protocol === 'oidc') {
      let begun: Awaited<ReturnType<OidcSignIn['begin']>>;
      try {
        begun = await options.oidc.begin(connection);
      } catch (error) {
        request.log.error({ err: error }, 'OIDC sign-in could not start');
        return showPage(
          reply,
          502,
          'Sign-in',
          'Your identity provider could not be reached. Try again later.',
        );
      }
      // The OIDC `state` names the transaction; nonce and PKCE verifier stay server-side.
      await remember('oidc', organization.id, begun.pending.state, begun.pending, returnTo);
      return reply.redirect(begun.url, 303);
    }
    // RelayState carries the transaction id through the IdP; the AuthnRequest id stays server-side.
    const transactionId = randomBytes(24).toString('base64url');
    const { url, requestId } = await options.saml.begin(connection, transactionId);
    await remember('saml', organization.id, transactionId, { requestId }, returnTo);
    return reply.redirect(url, 303);
  });

  app.get('/api/auth/sso/oidc/callback', { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (query.error) {
      // The sign-in this answers (if any) names the organisation the refusal is recorded in.
      const refused = await resume<'oidc', OidcPending>('oidc', query.state);
      if (typeof refused === 'object') {
        await signInFailed(request, refused.organization, 'identity_provider_error', undefined, {
          error: query.error,
        });
      }
      return showPage(
        reply,
        400,
        'Sign-in failed',
        `Your identity provider said: ${query.error_description ?? query.error}`,
      );
    }
    const resumed = await resume<'oidc', OidcPending>('oidc', query.state);
    if (resumed === 'expired') {
      return showPage(
        reply,
        400,
        'Sign-in failed',
        'This sign-in link has expired or was already used. Start again.',
      );
    }
    if (resumed === 'not_set_up')
      return showPage(reply, 400, 'Sign-in failed', 'Single sign-on is not set up.');
    let identity: VerifiedIdentity;
    try {
      identity = await options.oidc.complete(resumed.connection, callbackUrl(request), resumed.secret);
    } catch (error) {
      request.log.warn({ err: error }, 'OIDC sign-in refused');
      await signInFailed(request, resumed.organization, 'answer_not_verified', 'oidc');
      return showPage(reply, 401, 'Sign-in failed', 'Your identity provider’s answer could not be verified.');
    }
    return finish(request, reply, resumed.organization, identity, resumed.returnTo);
  });

  app.post('/api/auth/sso/saml/acs', { schema: { hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    // Unsolicited (IdP-initiated) responses are refused: without our request id to answer, an
    // assertion captured elsewhere could be replayed here.
    const resumed = body.SAMLResponse
      ? await resume<'saml', { requestId: string }>('saml', body.RelayState)
      : 'expired';
    if (resumed === 'expired') {
      return showPage(
        reply,
        400,
        'Sign-in failed',
        'This sign-in has expired or was not started here. Start again.',
      );
    }
    if (resumed === 'not_set_up')
      return showPage(reply, 400, 'Sign-in failed', 'Single sign-on is not set up.');
    let identity: VerifiedIdentity;
    try {
      const assertion = await options.saml.complete(
        resumed.connection,
        body.SAMLResponse as string,
        resumed.secret.requestId,
      );
      if (!(await spendNonce(db, `saml:${assertion.assertionId}`, assertion.expiresAt))) {
        throw new Error('assertion replayed');
      }
      identity = assertion.identity;
    } catch (error) {
      request.log.warn({ err: error }, 'SAML sign-in refused');
      await signInFailed(request, resumed.organization, 'answer_not_verified', 'saml');
      return showPage(reply, 401, 'Sign-in failed', 'Your identity provider’s answer could not be verified.');
    }
    return finish(request, reply, resumed.organization, identity, resumed.returnTo);
  });

  app.get('/api/auth/sso/saml/metadata', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'application/samlmetadata+xml').send(options.saml.metadata()),
  );

  /** Who is signed in in this browser (for the web UI and the device page). */
  app.get('/api/auth/session', { schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.current(request);
    if (!session)
      return reply.code(401).send({ error: { code: 'not_signed_in', message: 'Not signed in.' } });
    return {
      user: { id: session.user.id, email: session.user.email, name: session.user.name },
      organization: { id: session.organization.id, name: session.organization.name },
      csrfToken: session.csrfToken,
    };
  });

  app.post('/api/auth/logout', { schema: { hide: true } }, async (request, reply) => {
    const session = await sessions.current(request);
    const presented =
      (request.headers['x-csrf-token'] as string | undefined) ??
      ((request.body ?? {}) as Record<string, string | undefined>).csrf_token;
    if (session && !sessions.verifyCsrf(request, session, presented)) {
      return reply.code(403).send({ error: { code: 'csrf', message: 'Missing or wrong CSRF token.' } });
    }
    await sessions.end(request, reply);
    return reply.code(204).send();
  });

  /** The organisation's connection for the asked protocol, else its first (OIDC before SAML). */
  async function connectionFor(
    organizationId: string,
    asked: string | undefined,
  ): Promise<SsoConnection | undefined> {
    const order: SsoProtocol[] =
      asked === 'oidc' || asked === 'saml' ? [asked] : asked ? [] : ['oidc', 'saml'];
    for (const protocol of order) {
      const connection = await connections.get(organizationId, protocol);
      if (connection) return connection;
    }
    return undefined;
  }

  /** Keeps what the identity provider's answer is checked against, sealed, for one answer only. */
  async function remember(
    protocol: SsoProtocol,
    organizationId: string,
    transactionId: string,
    secret: unknown,
    returnTo: string,
  ): Promise<void> {
    await saveSsoTransaction(db, {
      idHash: box.hashToken(transactionId),
      organizationId,
      protocol,
      secretSealed: box.seal(JSON.stringify(secret), SEAL_BINDING),
      returnTo,
      expiresAt: new Date(options.now().getTime() + SIGN_IN_WINDOW_MS),
    });
  }

  /** Takes a pending sign-in back (once), with its organisation and current connection. */
  async function resume<P extends SsoProtocol, Secret>(
    protocol: P,
    transactionId: string | undefined,
  ): Promise<
    | 'expired'
    | 'not_set_up'
    | {
        organization: Organization;
        connection: Extract<SsoConnection, { protocol: P }>;
        secret: Secret;
        returnTo: string;
      }
  > {
    const transaction = transactionId
      ? await takeSsoTransaction(db, box.hashToken(transactionId), protocol, options.now())
      : undefined;
    if (!transaction?.secretSealed) return 'expired';
    const organization = await getOrganization(db, transaction.organizationId);
    const connection = await connections.get(transaction.organizationId, protocol);
    if (!organization || !connection) return 'not_set_up';
    const secret = JSON.parse(box.open(transaction.secretSealed, SEAL_BINDING)) as Secret;
    return { organization, connection, secret, returnTo: transaction.returnTo };
  }

  async function finish(
    request: FastifyRequest,
    reply: FastifyReply,
    organization: Organization,
    identity: VerifiedIdentity,
    returnTo: string,
  ) {
    try {
      const { user, groupsBefore } = await admitIdentity(db, organization, identity);
      await sessions.start(reply, user, request);
      await options.audit.record({
        organizationId: organization.id,
        actor: personActor(user),
        action: 'sign_in.succeeded',
        target: { type: 'user', id: user.id },
        before: null,
        after: { email: user.email, protocol: identity.protocol },
        request,
      });
      // Groups decide roles (bindings to IdP groups): a change the provider made is recorded.
      if (JSON.stringify(groupsBefore) !== JSON.stringify(user.idpGroups)) {
        await options.audit.record({
          organizationId: organization.id,
          actor: { kind: 'system', id: null, label: `identity provider (${identity.protocol})` },
          action: 'user.idp_groups_change',
          target: { type: 'user', id: user.id },
          before: { idpGroups: groupsBefore },
          after: { idpGroups: user.idpGroups },
          request,
        });
      }
      return reply.redirect(returnTo, 303);
    } catch (error) {
      if (error instanceof SignInRefused) {
        await signInFailed(request, organization, error.reason, identity.protocol, {
          email: identity.email ?? null,
        });
        return showPage(reply, 403, 'Sign-in refused', error.message);
      }
      request.log.error({ err: error }, 'sign-in failed');
      throw error;
    }
  }

  /** A refused sign-in, in the organisation whose identity provider it went through. */
  async function signInFailed(
    request: FastifyRequest,
    organization: Organization,
    reason: string,
    protocol: SsoProtocol | undefined,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const email = typeof details.email === 'string' ? details.email : null;
    await options.audit.record({
      organizationId: organization.id,
      // Nobody was admitted: the actor is whoever the identity provider's answer named, if anyone.
      actor: { kind: 'person', id: null, label: email },
      action: 'sign_in.failed',
      before: null,
      after: { reason, protocol: protocol ?? null, ...details },
      request,
    });
  }

  async function organizationFor(
    query: Record<string, string | undefined>,
  ): Promise<Organization | undefined> {
    if (query.email?.includes('@')) {
      const domain = query.email.slice(query.email.lastIndexOf('@') + 1).toLowerCase();
      const all = await db.select().from(organizations);
      const byDomain = all.find((organization) =>
        organization.emailDomains.some((allowed) => allowed.toLowerCase() === domain),
      );
      if (byDomain) return byDomain;
    }
    if (query.organization) {
      const all = await db.select().from(organizations);
      return all.find(
        (organization) => organization.slug === query.organization || organization.id === query.organization,
      );
    }
    return getOrganization(db, options.defaultOrganizationId);
  }

  function callbackUrl(request: FastifyRequest): URL {
    // The provider checks the redirect URI against the registered one; we rebuild it from our
    // own public URL, never from the Host header.
    const url = new URL(options.oidc.options.redirectUri);
    url.search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return url;
  }
}

/** Only same-site paths: an attacker-chosen absolute URL would make sign-in an open redirect. */
export function safeReturnPath(candidate: string | undefined): string {
  if (!candidate?.startsWith('/') || candidate.startsWith('//') || candidate.includes('\\')) return '/';
  return candidate;
}
