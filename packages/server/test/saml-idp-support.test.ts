/**
 * Proves the test SAML IdP (support/saml-idp.ts) against the real service-provider library,
 * @node-saml/node-saml, configured as our SP will be: signed assertions required, audience
 * checked, InResponseTo validated always. Also pins down which attacks node-saml refuses on its
 * own and which checks are left to our SP (see the "left to the SP" block).
 */
import { type Profile, SAML, type SamlConfig, ValidateInResponseTo } from '@node-saml/node-saml';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignedXml } from 'xml-crypto';
import {
  createSamlIdp,
  decodeSamlResponse,
  EMAIL_CLAIM_URI,
  NAMEID_FORMAT_EMAIL,
  SAML_NS,
  type SamlIdp,
  tamper,
  XSW_VARIANTS,
  type XswVariant,
} from './support/saml-idp.js';

const SP_ENTITY_ID = 'http://127.0.0.1:4600/api/auth/sso/saml/metadata';
const ACS_URL = 'http://127.0.0.1:4600/api/auth/sso/saml/acs';
const VICTIM = 'victim@example.test';
const ATTACKER = 'attacker@evil.test';

let idp: SamlIdp;

beforeAll(async () => {
  idp = await createSamlIdp();
});

function createSp(overrides: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    callbackUrl: ACS_URL,
    entryPoint: idp.ssoUrl,
    issuer: SP_ENTITY_ID,
    idpCert: idp.certificateBase64,
    audience: SP_ENTITY_ID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    acceptedClockSkewMs: 1_000,
    ...overrides,
  });
}

/** SP-initiated login: the SP issues (and remembers) an AuthnRequest; the IdP reads it. */
async function startLogin(sp: SAML) {
  const redirectUrl = await sp.getAuthorizeUrlAsync('relay-state-123', undefined, {});
  return idp.readAuthnRequest(redirectUrl);
}

async function validate(sp: SAML, SAMLResponse: string): Promise<Profile> {
  const { profile } = await sp.validatePostResponseAsync({ SAMLResponse });
  if (!profile) throw new Error('no profile');
  return profile;
}

function assertionIdOf(profile: Profile): string | undefined {
  const assertion = profile.getAssertion?.() as { Assertion?: { $?: { ID?: string } } } | undefined;
  return assertion?.Assertion?.$?.ID;
}

describe('test SAML IdP', () => {
  it('reads the HTTP-Redirect AuthnRequest the SP sends', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    expect(request.id).toMatch(/^_/);
    expect(request.issuer).toBe(SP_ENTITY_ID);
    expect(request.acsUrl).toBe(ACS_URL);
    expect(request.relayState).toBe('relay-state-123');
    expect(request.destination).toBe(idp.ssoUrl);
  });

  it('builds a signed response node-saml accepts, and shows the profile shape', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const samlResponse = idp.response({
      acsUrl: ACS_URL,
      audience: SP_ENTITY_ID,
      inResponseTo: request.id,
      nameId: VICTIM,
      name: 'Vic Tim',
      attributes: { groups: 'engineering' },
      assertionId: '_assertion-happy-1',
      sessionIndex: '_session-1',
    });
    const profile = await validate(sp, samlResponse);

    expect(profile.issuer).toBe(idp.entityId);
    expect(profile.nameID).toBe(VICTIM);
    expect(profile.nameIDFormat).toBe(NAMEID_FORMAT_EMAIL);
    expect(profile.email).toBe(VICTIM);
    expect(profile[EMAIL_CLAIM_URI]).toBe(VICTIM);
    expect(profile.name).toBe('Vic Tim');
    expect(profile.groups).toBe('engineering');
    expect(profile.attributes).toEqual({
      email: VICTIM,
      [EMAIL_CLAIM_URI]: VICTIM,
      name: 'Vic Tim',
      groups: 'engineering',
    });
    expect(profile.sessionIndex).toBe('_session-1');
    expect(profile.inResponseTo).toBe(request.id);
    // node-saml sets no profile.ID for a login response: the assertion ID (for replay
    // protection) comes from the *signed* assertion it returns.
    expect(profile.ID).toBeUndefined();
    expect(assertionIdOf(profile)).toBe('_assertion-happy-1');
    expect(profile.getAssertionXml?.()).toContain('ID="_assertion-happy-1"');
  });

  it('accepts the PEM certificate too, and a response signed on both levels', async () => {
    const sp = createSp({ idpCert: idp.certificatePem });
    const request = await startLogin(sp);
    const samlResponse = idp.response({
      acsUrl: ACS_URL,
      audience: SP_ENTITY_ID,
      inResponseTo: request.id,
      nameId: VICTIM,
      sign: 'both',
    });
    expect((await validate(sp, samlResponse)).email).toBe(VICTIM);
  });

  it('publishes IdP metadata carrying its certificate', () => {
    expect(idp.metadataXml).toContain(`entityID="${idp.entityId}"`);
    expect(idp.metadataXml).toContain(idp.certificateBase64);
    expect(idp.metadataXml).toContain(`Location="${idp.ssoUrl}"`);
  });
});

describe('node-saml (as our SP configures it) refuses', () => {
  const base = (inResponseTo: string) => ({
    acsUrl: ACS_URL,
    audience: SP_ENTITY_ID,
    inResponseTo,
    nameId: VICTIM,
  });

  it('an unsigned response', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    await expect(validate(sp, idp.response({ ...base(request.id), sign: 'none' }))).rejects.toThrow(
      /signature/i,
    );
  });

  it('a response whose only signature is on the Response (assertion signature required)', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    await expect(validate(sp, idp.response({ ...base(request.id), sign: 'response' }))).rejects.toThrow(
      /Invalid signature/,
    );
  });

  it('a response whose email was edited after signing', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const signed = idp.response(base(request.id));
    const edited = tamper(signed, (xml) => xml.replaceAll(VICTIM, ATTACKER));
    expect(decodeSamlResponse(edited)).toContain(ATTACKER);
    await expect(validate(sp, edited)).rejects.toThrow(/signature/i);
  });

  it('a response whose email attribute alone was edited after signing', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const signed = idp.response(base(request.id));
    const edited = tamper(signed, (xml) =>
      xml.replace(`xsi:type="xs:string">${VICTIM}<`, `xsi:type="xs:string">${ATTACKER}<`),
    );
    expect(decodeSamlResponse(edited)).toContain(ATTACKER);
    await expect(validate(sp, edited)).rejects.toThrow(/signature/i);
  });

  it('a response signed by a key it does not trust (same entity ID, other certificate in KeyInfo)', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const impostor = await createSamlIdp({ entityId: idp.entityId });
    await expect(validate(sp, impostor.response(base(request.id)))).rejects.toThrow(/signature/i);
  });

  it('an expired assertion (NotOnOrAfter in the past)', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const past = Date.now() - 10 * 60_000;
    const samlResponse = idp.response({
      ...base(request.id),
      issueInstant: new Date(past - 5 * 60_000),
      notOnOrAfter: new Date(past),
    });
    await expect(validate(sp, samlResponse)).rejects.toThrow(/subject confirmation|expired/i);
  });

  it('a not-yet-valid assertion (NotBefore in the future)', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const samlResponse = idp.response({
      ...base(request.id),
      notBefore: new Date(Date.now() + 5 * 60_000),
      notOnOrAfter: new Date(Date.now() + 10 * 60_000),
    });
    await expect(validate(sp, samlResponse)).rejects.toThrow(/not yet valid/);
  });

  it('an assertion for another audience', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const samlResponse = idp.response({ ...base(request.id), audience: 'https://other-sp.example.test' });
    await expect(validate(sp, samlResponse)).rejects.toThrow(/audience mismatch/);
  });

  it('a response to an AuthnRequest it never sent (unknown InResponseTo)', async () => {
    const sp = createSp();
    await startLogin(sp);
    await expect(validate(sp, idp.response(base('_never-issued')))).rejects.toThrow(
      /InResponseTo is not valid/,
    );
  });

  it('an unsolicited (IdP-initiated) response, with no InResponseTo', async () => {
    const sp = createSp();
    const { inResponseTo: _omit, ...unsolicited } = base('_unused');
    await expect(validate(sp, idp.response(unsolicited))).rejects.toThrow(/InResponseTo is missing/);
  });

  it('a response whose signed SubjectConfirmationData InResponseTo differs from the Response one', async () => {
    const sp = createSp();
    const first = await startLogin(sp);
    const second = await startLogin(sp);
    // Signed for `first`, then the unsigned Response-level InResponseTo swapped to `second`.
    const signed = idp.response(base(first.id));
    const swapped = tamper(signed, (xml) =>
      xml.replace(
        `Destination="${ACS_URL}" InResponseTo="${first.id}"`,
        `Destination="${ACS_URL}" InResponseTo="${second.id}"`,
      ),
    );
    await expect(validate(sp, swapped)).rejects.toThrow(/does not match/);
  });

  it('the same response posted twice (its AuthnRequest ID is single-use in the SP cache)', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const samlResponse = idp.response(base(request.id));
    await validate(sp, samlResponse);
    await expect(validate(sp, samlResponse)).rejects.toThrow(/InResponseTo is not valid/);
  });

  it('a non-Success status', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const samlResponse = idp.response({
      ...base(request.id),
      statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
      statusMessage: 'nope',
    });
    await expect(validate(sp, samlResponse)).rejects.toThrow(/nope|Requester/);
  });
});

/** What a naive SP would read: the identity in the first assertion it finds. */
function naiveNameId(xml: string, variant: XswVariant): string | undefined {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement as Element;
  // Response-signature attacks (1–2): the SP checks the root's signature, then reads
  // /Response/Assertion. Assertion-signature attacks: the first assertion in document order.
  const assertion =
    variant <= 2 ? child(root, 'Assertion') : doc.getElementsByTagNameNS(SAML_NS.assertion, 'Assertion')[0];
  const subject = assertion && child(assertion, 'Subject');
  return (subject && child(subject, 'NameID')?.textContent) ?? undefined;
}

function child(parent: Element, localName: string): Element | undefined {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).localName === localName) return node as Element;
  }
  return undefined;
}

/** Does the (first) signature in the document still verify cryptographically? (xml-crypto alone) */
function signatureStillVerifies(xml: string, certificatePem: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(SAML_NS.dsig, 'Signature')[0];
  if (!signature) return false;
  const sig = new SignedXml({ publicCert: certificatePem });
  sig.loadSignature(signature.toString());
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}

describe('XML signature wrapping (XSW)', () => {
  const wrapped = (variant: XswVariant, inResponseTo: string, evilAssertionId?: string) =>
    idp.wrappedResponse({
      acsUrl: ACS_URL,
      audience: SP_ENTITY_ID,
      inResponseTo,
      nameId: VICTIM,
      attackerEmail: ATTACKER,
      variant,
      ...(evilAssertionId === undefined ? {} : { evilAssertionId }),
    });

  it.each(XSW_VARIANTS)(
    'XSW%i is a real attack: a naive SP reads the attacker; signature still verifies',
    (variant) => {
      const xml = decodeSamlResponse(wrapped(variant, '_irrelevant'));
      expect(naiveNameId(xml, variant)).toBe(ATTACKER);
      expect(xml).toContain(VICTIM);
      // 7 and 8 (as SAML Raider builds them) reuse the signed assertion's ID, which xml-crypto's
      // own reference lookup already refuses; every other variant verifies over the original.
      expect(signatureStillVerifies(xml, idp.certificatePem)).toBe(variant < 7);
    },
  );

  // node-saml 5.1.0's reason for each (all are "Invalid signature…" errors).
  const refusal: Record<XswVariant, RegExp> = {
    1: /Referenced node does not refer to it's parent element/,
    2: /Referenced node does not refer to it's parent element/,
    3: /multiple assertions/,
    4: /^Invalid signature$/,
    5: /multiple assertions/,
    6: /Referenced node does not refer to it's parent element/,
    7: /ID cannot refer to more than one element/,
    8: /ID cannot refer to more than one element/,
  };

  it.each(XSW_VARIANTS)('XSW%i is refused by the assertion-signature SP', async (variant) => {
    const sp = createSp();
    const request = await startLogin(sp);
    await expect(validate(sp, wrapped(variant, request.id))).rejects.toThrow(refusal[variant]);
  });

  it.each([1, 2] as const)('XSW%i is refused by a response-signature SP too', async (variant) => {
    const sp = createSp({ wantAuthnResponseSigned: true, wantAssertionsSigned: false });
    const request = await startLogin(sp);
    await expect(validate(sp, wrapped(variant, request.id))).rejects.toThrow(/signature/i);
  });

  it.each([7, 8] as const)(
    'XSW%i with a fresh evil assertion ID never yields the attacker',
    async (variant) => {
      const sp = createSp();
      const request = await startLogin(sp);
      const attempt = validate(sp, wrapped(variant, request.id, '_evil-fresh-id'));
      if (variant === 7) {
        // The evil assertion hides in <samlp:Extensions>; node-saml only reads the signed
        // /Response/Assertion, so the login succeeds — as the *signed* (victim) identity.
        const profile = await attempt;
        expect(profile.nameID).toBe(VICTIM);
        expect(profile.email).toBe(VICTIM);
      } else {
        await expect(attempt).rejects.toThrow(/signature/i);
      }
    },
  );
});

describe('left to our SP: node-saml 5.1.0 does not check these', () => {
  it('the assertion Issuer (even with idpIssuer set): compare profile.issuer yourself', async () => {
    const sp = createSp({ idpIssuer: idp.entityId });
    const request = await startLogin(sp);
    const profile = await validate(
      sp,
      idp.response({
        acsUrl: ACS_URL,
        audience: SP_ENTITY_ID,
        inResponseTo: request.id,
        nameId: VICTIM,
        issuer: 'https://some-other-idp.example.test',
      }),
    );
    expect(profile.issuer).toBe('https://some-other-idp.example.test');
  });

  it('the Recipient and Destination: compare them with the ACS URL yourself if wanted', async () => {
    const sp = createSp();
    const request = await startLogin(sp);
    const profile = await validate(
      sp,
      idp.response({
        acsUrl: ACS_URL,
        audience: SP_ENTITY_ID,
        inResponseTo: request.id,
        nameId: VICTIM,
        recipient: 'https://elsewhere.example.test/acs',
        destination: 'https://elsewhere.example.test/acs',
      }),
    );
    expect(profile.nameID).toBe(VICTIM);
  });

  it('replayed assertion IDs: with validateInResponseTo "ifPresent", an unsolicited response replays', async () => {
    const sp = createSp({ validateInResponseTo: ValidateInResponseTo.ifPresent });
    const samlResponse = idp.response({ acsUrl: ACS_URL, audience: SP_ENTITY_ID, nameId: VICTIM });
    const first = await validate(sp, samlResponse);
    const second = await validate(sp, samlResponse);
    expect(assertionIdOf(second)).toBe(assertionIdOf(first));
  });
});
