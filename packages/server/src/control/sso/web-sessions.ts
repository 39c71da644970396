import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type SecretBox, secretsEqual } from '../../security/secret-box.js';
import type { Database } from '../../store/database.js';
import { getOrganization, type Organization } from '../../store/organizations.js';
import { users, webSessions } from '../../store/schema.js';
import type { UserRow } from '../../store/users.js';

/** A signed-in browser, as a request sees it. */
export interface SignedIn {
  user: UserRow;
  organization: Organization;
  /** Put into every form this session may submit; state-changing calls must echo it. */
  csrfToken: string;
}

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

  async start(reply: FastifyReply, user: UserRow): Promise<void> {
    const id = randomBytes(32).toString('base64url');
    const now = this.#options.now();
    await this.#db.insert(webSessions).values({
      idHash: this.#box.hashToken(id),
      organizationId: user.organizationId,
      userId: user.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#options.ttlSeconds * 1000),
    });
    reply.setCookie(this.cookieName, id, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secure,
      maxAge: this.#options.ttlSeconds,
    });
  }

  /** The session the request's cookie names, if it is live and its person still active. */
  async current(request: FastifyRequest): Promise<SignedIn | undefined> {
    const id = request.cookies[this.cookieName];
    if (!id) return undefined;
    const [row] = await this.#db
      .select({ user: users })
      .from(webSessions)
      .innerJoin(users, eq(users.id, webSessions.userId))
      .where(
        and(
          eq(webSessions.idHash, this.#box.hashToken(id)),
          isNull(webSessions.revokedAt),
          gt(webSessions.expiresAt, this.#options.now()),
        ),
      );
    if (!row || row.user.disabledAt) return undefined;
    const organization = await getOrganization(this.#db, row.user.organizationId);
    if (!organization) return undefined;
    return { user: row.user, organization, csrfToken: this.#csrfToken(id) };
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
