import { randomBytes } from 'node:crypto';
import {
  type CacheProvider,
  generateServiceProviderMetadata,
  SAML,
  type SamlConfig,
  ValidateInResponseTo,
} from '@node-saml/node-saml';
import type { VerifiedIdentity } from './admit-identity.js';
import type { SamlConnection } from './connections.js';

export interface SamlSignInOptions {
  /** `{public URL}/api/auth/sso/saml/acs`. */
  acsUrl: string;
  /** This service provider's entity id: `{public URL}/api/auth/sso/saml/metadata`. */
  entityId: string;
}

/** A validated assertion: who, and what makes it one-time. */
export interface SamlAssertion {
  identity: VerifiedIdentity;
  /** The assertion's ID: remembered until `expiresAt` so it cannot be replayed. */
  assertionId: string;
  expiresAt: Date;
}

/**
 * How far our clock and the IdP's may disagree on NotBefore / NotOnOrAfter / IssueInstant: 60 s.
 * Enough for NTP-synchronised hosts; more would stretch every assertion's life by as much.
 */
export const SAML_CLOCK_SKEW_MS = 60_000;

/**
 * An assertion is accepted at most 5 minutes after its IssueInstant, whatever NotOnOrAfter the
 * IdP wrote (some write hours): a browser posts it to us within seconds of it being issued.
 */
export const SAML_MAX_ASSERTION_AGE_MS = 5 * 60_000;

/** The longest a spent assertion id is remembered; the age limit above keeps it far shorter. */
const MAX_REPLAY_MEMORY_MS = 24 * 60 * 60_000;

/** Our AuthnRequests ask for, and our metadata advertises, email-address NameIDs. */
const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const BEARER_METHOD = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** Where IdPs put the email address: plain names first, then the WS-Federation claim URIs. */
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const NAME_ATTRIBUTES = [
  'name',
  'displayName',
  'urn:oid:2.16.840.1.113730.3.1.241',
  'http://schemas.microsoft.com/identity/claims/displayname',
];
const GIVEN_NAME_ATTRIBUTES = [
  'givenName',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
];
const SURNAME_ATTRIBUTES = ['sn', 'surname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'];

export type SamlRefusalCode =
  | 'saml_no_assertion'
  | 'saml_wrong_issuer'
  | 'saml_wrong_recipient'
  | 'saml_wrong_destination'
  | 'saml_wrong_in_response_to'
  | 'saml_no_subject'
  | 'saml_malformed';

/** A response that validated cryptographically but is not an answer to our request, for us. */
export class SamlAssertionRefused extends Error {
  readonly code: SamlRefusalCode;
  constructor(code: SamlRefusalCode, message: string) {
    super(message);
    this.name = 'SamlAssertionRefused';
    this.code = code;
  }
}

/**
 * SAML 2.0 sign-in (Web Browser SSO profile, SP-initiated) with @node-saml/node-saml.
 *
 * - AuthnRequests go out over HTTP-Redirect, unsigned: we hold no SP key, and an IdP gains
 *   nothing from a signed request that the response's checks below do not already give us.
 * - Responses come back over HTTP-POST. The assertion must be signed by one of the connection's
 *   certificates (a response signature alone is not enough; both is fine), for our entity id as
 *   audience, within its validity window (± {@link SAML_CLOCK_SKEW_MS}) and at most
 *   {@link SAML_MAX_ASSERTION_AGE_MS} old.
 * - node-saml keeps request ids in process memory by default, which breaks behind several
 *   instances; each call gets its own cache holding only the id `routes.ts` kept in the
 *   database, so the response must answer exactly that request.
 * - node-saml leaves these to us, checked here against the signed assertion: the Issuer is the
 *   connection's IdP; a bearer SubjectConfirmation names our ACS as Recipient and our request as
 *   InResponseTo; the Response's Destination, when present, is our ACS. Replay (the same
 *   assertion id twice) is refused by the caller, which remembers ids until `expiresAt`.
 *
 * @see https://github.com/node-saml/node-saml#config-parameter-details
 * @see https://docs.oasis-open.org/security/saml/v2.0/saml-profiles-2.0-os.pdf (4.1.4)
 */
export class SamlSignIn {
  constructor(readonly options: SamlSignInOptions) {}

  /** The HTTP-Redirect URL carrying an AuthnRequest, and that request's id. */
  async begin(connection: SamlConnection, relayState: string): Promise<{ url: string; requestId: string }> {
    const requestId = `_${randomBytes(20).toString('hex')}`;
    // The id is kept by the caller (in the database), not in node-saml's cache.
    const saml = this.#client(connection, requestId, discardingCache());
    const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
    return { url, requestId };
  }

  /** Validates a posted SAMLResponse answering `requestId`; throws on anything less than valid. */
  async complete(
    connection: SamlConnection,
    samlResponse: string,
    requestId: string,
  ): Promise<SamlAssertion> {
    const saml = this.#client(connection, requestId, cacheHolding(requestId));
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
    if (!profile?.getAssertion) throw new SamlAssertionRefused('saml_no_assertion', 'no assertion');
    const now = Date.now();
    const assertion = readAssertion(profile.getAssertion());

    if (profile.issuer !== connection.idpEntityId || assertion.issuer !== connection.idpEntityId) {
      throw new SamlAssertionRefused('saml_wrong_issuer', `assertion issued by ${profile.issuer}`);
    }
    const destination = responseDestination(profile.getSamlResponseXml?.() ?? '');
    if (destination !== undefined && destination !== this.options.acsUrl) {
      throw new SamlAssertionRefused('saml_wrong_destination', `response sent to ${destination}`);
    }
    const confirmations = assertion.bearerConfirmations.filter(
      (confirmation) => confirmation.notOnOrAfter + SAML_CLOCK_SKEW_MS > now,
    );
    if (!confirmations.some((confirmation) => confirmation.recipient === this.options.acsUrl)) {
      throw new SamlAssertionRefused('saml_wrong_recipient', 'no bearer confirmation for our ACS URL');
    }
    if (
      !confirmations.some(
        (confirmation) =>
          confirmation.recipient === this.options.acsUrl && confirmation.inResponseTo === requestId,
      )
    ) {
      throw new SamlAssertionRefused('saml_wrong_in_response_to', 'assertion does not answer our request');
    }
    if (assertion.issueInstant - SAML_CLOCK_SKEW_MS > now) {
      throw new SamlAssertionRefused('saml_malformed', 'assertion issued in the future');
    }

    const subject = profile.nameID;
    if (typeof subject !== 'string' || subject.trim() === '') {
      throw new SamlAssertionRefused('saml_no_subject', 'assertion has no NameID');
    }
    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const email =
      firstString(attributes, EMAIL_ATTRIBUTES) ??
      (profile.nameIDFormat === NAMEID_FORMAT_EMAIL && subject.includes('@') ? subject : undefined);
    const given = firstString(attributes, GIVEN_NAME_ATTRIBUTES);
    const surname = firstString(attributes, SURNAME_ATTRIBUTES);
    const name =
      firstString(attributes, NAME_ATTRIBUTES) ?? ([given, surname].filter(Boolean).join(' ') || undefined);

    // Kept until the assertion could no longer be accepted anyway: its earliest end, plus skew.
    const acceptedUntil = Math.min(
      assertion.issueInstant + SAML_MAX_ASSERTION_AGE_MS,
      assertion.conditionsNotOnOrAfter ?? Number.POSITIVE_INFINITY,
      ...confirmations.map((confirmation) => confirmation.notOnOrAfter),
    );
    const expiresAt = new Date(Math.min(acceptedUntil + SAML_CLOCK_SKEW_MS, now + MAX_REPLAY_MEMORY_MS));

    return {
      identity: { protocol: 'saml', subject, email, emailVerified: true, name },
      assertionId: assertion.id,
      expiresAt,
    };
  }

  /** This service provider's metadata document. */
  metadata(): string {
    return generateServiceProviderMetadata({
      issuer: this.options.entityId,
      callbackUrl: this.options.acsUrl,
      identifierFormat: NAMEID_FORMAT_EMAIL,
      wantAssertionsSigned: true,
    });
  }

  #client(connection: SamlConnection, requestId: string, cacheProvider: CacheProvider): SAML {
    const config: SamlConfig = {
      entryPoint: connection.entryPoint,
      issuer: this.options.entityId,
      callbackUrl: this.options.acsUrl,
      audience: this.options.entityId,
      idpCert: connection.certificates.map((certificate) => certificate.trim()),
      // node-saml compares this only on logout messages; `complete` checks the assertion's Issuer.
      idpIssuer: connection.idpEntityId,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      // What we would sign with (we sign nothing yet); verification takes what xml-crypto accepts.
      signatureAlgorithm: 'sha256',
      identifierFormat: NAMEID_FORMAT_EMAIL,
      // IdPs name authentication contexts differently; asking for one gets some sign-ins refused.
      disableRequestedAuthnContext: true,
      acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
      maxAssertionAgeMs: SAML_MAX_ASSERTION_AGE_MS,
      validateInResponseTo: ValidateInResponseTo.always,
      // The sign-in window lives in the caller's transaction; this only has to outlast it.
      requestIdExpirationPeriodMs: 60 * 60_000,
      cacheProvider,
      generateUniqueId: () => requestId,
    };
    return new SAML(config);
  }
}

/** A cache for issuing a request: the caller remembers its id. */
function discardingCache(): CacheProvider {
  return {
    saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
    getAsync: async () => null,
    removeAsync: async () => null,
  };
}

/** A cache that knows one request id, the one the response must answer. */
function cacheHolding(requestId: string): CacheProvider {
  const issuedAt = new Date().toISOString();
  return {
    saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
    getAsync: async (key) => (key === requestId ? issuedAt : null),
    removeAsync: async () => null,
  };
}

interface BearerConfirmation {
  recipient: string | undefined;
  inResponseTo: string | undefined;
  notOnOrAfter: number;
}

interface ReadAssertion {
  id: string;
  issuer: string | undefined;
  issueInstant: number;
  conditionsNotOnOrAfter: number | undefined;
  bearerConfirmations: BearerConfirmation[];
}

// node-saml's xml2js shape: elements are arrays, attributes under `$`, text under `_`.
interface XmlNode {
  $?: Record<string, string | undefined>;
  _?: string;
  [child: string]: unknown;
}

function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

/** The fields we check, from the signed assertion node-saml verified (never the raw response). */
function readAssertion(parsed: Record<string, unknown>): ReadAssertion {
  const assertion = parsed.Assertion as XmlNode | undefined;
  const id = assertion?.$?.ID;
  const issueInstant = Date.parse(assertion?.$?.IssueInstant ?? '');
  if (!assertion || !id || Number.isNaN(issueInstant)) {
    throw new SamlAssertionRefused('saml_malformed', 'assertion lacks an ID or IssueInstant');
  }
  const conditionsEnd = Date.parse(children(assertion, 'Conditions')[0]?.$?.NotOnOrAfter ?? '');
  const bearerConfirmations: BearerConfirmation[] = [];
  for (const confirmation of children(children(assertion, 'Subject')[0], 'SubjectConfirmation')) {
    if (confirmation.$?.Method !== BEARER_METHOD) continue;
    const data = children(confirmation, 'SubjectConfirmationData')[0]?.$;
    // The bearer profile requires NotOnOrAfter: without it a captured assertion never dies.
    const notOnOrAfter = Date.parse(data?.NotOnOrAfter ?? '');
    if (!data || Number.isNaN(notOnOrAfter)) continue;
    bearerConfirmations.push({ recipient: data.Recipient, inResponseTo: data.InResponseTo, notOnOrAfter });
  }
  return {
    id,
    issuer: children(assertion, 'Issuer')[0]?._,
    issueInstant,
    conditionsNotOnOrAfter: Number.isNaN(conditionsEnd) ? undefined : conditionsEnd,
    bearerConfirmations,
  };
}

/**
 * The Response element's Destination attribute, if any. Read from the (unsigned) response
 * envelope, so it can only refuse, never admit; node-saml has already parsed this document and
 * found a Response at its root.
 */
function responseDestination(xml: string): string | undefined {
  const root =
    /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*<(?:[\w.-]+:)?Response\b((?:[^>"']|"[^"]*"|'[^']*')*)>/.exec(xml);
  if (!root) throw new SamlAssertionRefused('saml_malformed', 'response root not found');
  for (const attribute of (root[1] ?? '').matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (attribute[1] === 'Destination') return decodeXmlEntities(attribute[2] ?? attribute[3] ?? '');
  }
  return undefined;
}

function decodeXmlEntities(value: string): string {
  return value.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[\da-fA-F]+);/g, (_match, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }[entity] ?? '';
  });
}

/** The first non-empty string among `names`; multi-valued attributes give their first value. */
function firstString(attributes: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) {
    const value = attributes[name];
    const first = Array.isArray(value) ? value.find((item) => typeof item === 'string') : value;
    if (typeof first === 'string' && first.trim() !== '') return first.trim();
  }
  return undefined;
}
