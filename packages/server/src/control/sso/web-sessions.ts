import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type SecretBox, secretsEqual } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { getOrganization, type Organization } from '../../store/organizations.js';
import { organizations, sessionMemberships, users, webSessions } from '../../store/schema.js';
import type { UserRow } from '../../store/users.js';

/** A signed-in browser, as a request sees it. */
export interface SignedIn {
  user: UserRow;
  organization: Organization;
  /** Put into every form this session may submit; state-changing calls must echo it. */
  csrfToken: string;
}

/** The header that picks which of the session's organisations a request acts in. */
const ORGANIZATION_HEADER = 'x-gatehouse-organization';

export interface WebSessionOptions {
  /** How long a browser stays signed in. */
  ttlSeconds: number;
  /** The public URL; an https one makes the cookie `Secure` and `__Host-` prefixed. */
  publicUrl: string;
  now(): Date;
}

/**
 * Browser sessions: an opaque random id in an HTTP-only, SameSite=Lax cookie (Lax so the
 * identity provider's redirect back still carries it; state-changing calls are POSTs, which Lax
 * keeps same-site), stored only as a keyed hash. CSRF tokens are derived from the session id, so
 * they need no storage and die with the session.
 */
export class WebSessions {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #options: WebSessionOptions;
  readonly #secure: boolean;
  readonly #origin: string;
  readonly cookieName: string;

  constructor(db: Database, box: SecretBox, options: WebSessionOptions) {
    this.#db = db;
    this.#box = box;
    this.#options = options;
    this.#origin = new URL(options.publicUrl).origin;
    this.#secure = this.#origin.startsWith('https:');
    // `__Host-` pins the cookie to this host and path `/`; browsers accept it only when Secure.
    this.cookieName = this.#secure ? '__Host-gatehouse_session' : 'gatehouse_session';
  }

  /**
   * Signs a person in. A browser already holding a live session keeps it and gains this
   * organisation beside the ones it has (each proven through that organisation's own identity
   * provider), now as its current one; otherwise a new session starts.
   */
  async start(reply: FastifyReply, user: UserRow, request?: FastifyRequest): Promise<void> {
    const now = this.#options.now();
    const existing = request ? await this.#liveSession(request) : undefined;
    if (existing) {
      await this.#db.transaction(async (tx) => {
        await tx
          .insert(sessionMemberships)
          .values({ sessionIdHash: existing.idHash, organizationId: user.organizationId, userId: user.id })
          .onConflictDoUpdate({
            target: [sessionMemberships.sessionIdHash, sessionMemberships.organizationId],
            set: { userId: user.id },
          });
        await tx
          .update(webSessions)
          .set({ organizationId: user.organizationId, userId: user.id })
          .where(eq(webSessions.idHash, existing.idHash));
      });
      return;
    }
    const id = randomBytes(32).toString('base64url');
    const idHash = this.#box.hashToken(id);
    await this.#db.transaction(async (tx) => {
      await tx.insert(webSessions).values({
        idHash,
        organizationId: user.organizationId,
        userId: user.id,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.#options.ttlSeconds * 1000),
      });
      await tx
        .insert(sessionMemberships)
        .values({ sessionIdHash: idHash, organizationId: user.organizationId, userId: user.id });
    });
    reply.setCookie(this.cookieName, id, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secure,
      maxAge: this.#options.ttlSeconds,
    });
  }

  /**
   * The person the request acts as: in the organisation its `x-gatehouse-organization` header
   * names, else in the session's current one; undefined unless the session is live, has signed
   * in to that organisation, and the person there is still active.
   */
  async current(request: FastifyRequest): Promise<SignedIn | undefined> {
    const session = await this.#liveSession(request);
    if (!session) return undefined;
    const named = request.headers[ORGANIZATION_HEADER];
    const organizationId = typeof named === 'string' ? named : session.organizationId;
    // The current organisation is the session's own row (which also serves sessions started
    // before memberships existed); any other must be one the session signed in to.
    const [membership] =
      organizationId === session.organizationId
        ? await this.#db.select({ user: users }).from(users).where(eq(users.id, session.userId))
        : await this.#db
            .select({ user: users })
            .from(sessionMemberships)
            .innerJoin(users, eq(users.id, sessionMemberships.userId))
            .where(
              and(
                eq(sessionMemberships.sessionIdHash, session.idHash),
                eq(sessionMemberships.organizationId, organizationId),
              ),
            );
    if (!membership || membership.user.disabledAt) return undefined;
    const organization = await getOrganization(this.#db, organizationId);
    if (!organization) return undefined;
    return { user: membership.user, organization, csrfToken: this.#csrfToken(session.id) };
  }

  /** The organisations this session has signed in to, for an organisation switcher. */
  async organizations(request: FastifyRequest): Promise<{ id: string; name: string; current: boolean }[]> {
    const session = await this.#liveSession(request);
    if (!session) return [];
    const rows = await this.#db
      .select({ id: organizations.id, name: organizations.name })
      .from(sessionMemberships)
      .innerJoin(organizations, eq(organizations.id, sessionMemberships.organizationId))
      .where(eq(sessionMemberships.sessionIdHash, session.idHash));
    return rows.map((row) => ({ ...row, current: row.id === session.organizationId }));
  }

  /** Makes one of the session's organisations its current one; false when it has not signed in there. */
  async switchTo(request: FastifyRequest, organizationId: string): Promise<boolean> {
    const session = await this.#liveSession(request);
    if (!session) return false;
    const [membership] = await this.#db
      .select()
      .from(sessionMemberships)
      .where(
        and(
          eq(sessionMemberships.sessionIdHash, session.idHash),
          eq(sessionMemberships.organizationId, organizationId),
        ),
      );
    if (!membership) return false;
    await this.#db
      .update(webSessions)
      .set({ organizationId, userId: membership.userId })
      .where(eq(webSessions.idHash, session.idHash));
    return true;
  }

  async #liveSession(request: FastifyRequest) {
    const id = request.cookies[this.cookieName];
    if (!id) return undefined;
    const [row] = await this.#db
      .select()
      .from(webSessions)
      .where(
        and(
          eq(webSessions.idHash, this.#box.hashToken(id)),
          isNull(webSessions.revokedAt),
          gt(webSessions.expiresAt, this.#options.now()),
        ),
      );
    return row ? { ...row, id } : undefined;
  }

  /**
   * True when a state-changing request really comes from our own page: the token matches this
   * session's, and the browser's Origin (when it sends one) is ours.
   */
  verifyCsrf(request: FastifyRequest, session: SignedIn, presented: string | undefined): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.#origin) return false;
    return presented !== undefined && secretsEqual(presented, session.csrfToken);
  }

  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.cookies[this.cookieName];
    if (id) {
      await this.#db
        .update(webSessions)
        .set({ revokedAt: this.#options.now() })
        .where(eq(webSessions.idHash, this.#box.hashToken(id)));
    }
    reply.clearCookie(this.cookieName, { path: '/' });
  }

  #csrfToken(sessionId: string): string {
    return this.#box.hashToken(`csrf:${sessionId}`);
  }
}
