import { and, eq } from 'drizzle-orm';
import type { Database } from '../../store/database.js';
import { newId } from '../../store/ids.js';
import type { Organization } from '../../store/organizations.js';
import { type SsoProtocol, users } from '../../store/schema.js';
import type { UserRow } from '../../store/users.js';
import { ensurePersonalProject } from '../personal-access.js';

/** Who the identity provider says signed in, after its signature and claims were checked. */
export interface VerifiedIdentity {
  protocol: SsoProtocol;
  /** The provider's stable id for the person (OIDC `sub`, SAML NameID). */
  subject: string;
  email: string | undefined;
  /** OIDC's `email_verified`; a SAML IdP's asserted email counts as verified (it is the authority). */
  emailVerified: boolean;
  name: string | undefined;
  /**
   * The groups the provider says the person is in (OIDC `groups`); undefined when it sent none,
   * which leaves the groups last seen as they were.
   */
  groups?: string[] | undefined;
}

export type SignInRefusal = 'email_missing' | 'email_unverified' | 'domain_not_allowed' | 'user_disabled';

const refusalMessages: Record<SignInRefusal, string> = {
  email_missing: 'Your identity provider did not send an email address for you.',
  email_unverified: 'Your identity provider has not verified your email address.',
  domain_not_allowed: "Your email address's domain is not one this organisation accepts.",
  user_disabled: 'Your account is deactivated. Ask your administrator.',
};

/** Sign-in refused for a reason the person can act on; shown to them as is. */
export class SignInRefused extends Error {
  readonly reason: SignInRefusal;
  constructor(reason: SignInRefusal) {
    super(refusalMessages[reason]);
    this.reason = reason;
  }
}

/** The email domain rule: an empty list accepts anyone the organisation's IdP vouches for. */
export function domainAllowed(organization: Organization, email: string): boolean {
  if (organization.emailDomains.length === 0) return true;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return organization.emailDomains.some((allowed) => allowed.toLowerCase() === domain);
}

/**
 * Turns a verified identity into the organisation's user, creating them just in time: matched
 * first by the provider's subject, then by verified email (which links a SCIM-provisioned or
 * admin-created person to their first sign-in). Every admitted person has a personal project.
 */
export async function admitIdentity(
  db: Database,
  organization: Organization,
  identity: VerifiedIdentity,
): Promise<{ user: UserRow; groupsBefore: readonly string[] }> {
  const externalSubject = `${identity.protocol}:${identity.subject}`;
  const email = identity.email?.trim().toLowerCase();
  let [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.organizationId, organization.id), eq(users.externalSubject, externalSubject)));
  if (!user) {
    if (!email) throw new SignInRefused('email_missing');
    if (!identity.emailVerified) throw new SignInRefused('email_unverified');
    if (!domainAllowed(organization, email)) throw new SignInRefused('domain_not_allowed');
    [user] = await db
      .select()
      .from(users)
      .where(and(eq(users.organizationId, organization.id), eq(users.email, email)));
    if (user) {
      [user] = await db.update(users).set({ externalSubject }).where(eq(users.id, user.id)).returning();
    } else {
      [user] = await db
        .insert(users)
        .values({
          id: newId('usr'),
          organizationId: organization.id,
          email,
          name: identity.name ?? null,
          externalSubject,
        })
        .onConflictDoNothing()
        .returning();
      // A concurrent first sign-in of the same person inserted first: use that row.
      user ??= (
        await db
          .select()
          .from(users)
          .where(and(eq(users.organizationId, organization.id), eq(users.email, email)))
      )[0];
    }
  }
  if (!user) throw new Error('user row missing after sign-in');
  if (user.disabledAt) throw new SignInRefused('user_disabled');
  // Role bindings to IdP groups follow what the provider says now: a group left loses its role.
  const groupsBefore = user.idpGroups;
  if (identity.groups !== undefined) {
    [user] = await db
      .update(users)
      .set({ idpGroups: identity.groups })
      .where(eq(users.id, user.id))
      .returning();
    if (!user) throw new Error('user row missing after sign-in');
  }
  await ensurePersonalProject(db, user);
  return { user, groupsBefore };
}
