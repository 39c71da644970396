import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { SamlSignIn } from '../src/control/sso/saml.js';
import { projects, spentNonces } from '../src/store/schema.js';
import { saveSsoTransaction } from '../src/store/sso-transactions.js';
import { hiddenField, pollToken, startDeviceAuthorization } from './support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';
import {
  createSamlIdp,
  decodeSamlResponse,
  NAMEID_FORMAT_EMAIL,
  type SamlAuthnRequest,
  type SamlIdp,
  type SamlResponseOptions,
  tamper,
  XSW_VARIANTS,
  type XswVariant,
} from './support/saml-idp.js';

/**
 * Web sign-in through a SAML 2.0 identity provider, over real HTTP: the CLI's device flow
 * finished by a SAML sign-in, and every forged, stale, misdirected or replayed response refused
 * at the assertion consumer service without a session or a user.
 */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let idp: SamlIdp;
let acsUrl: string;
let entityId: string;
/** Watches the validator inside the running server, so a refusal can be checked for its reason. */
let complete: MockInstance<SamlSignIn['complete']>;

beforeAll(async () => {
  [gateway, idp] = await Promise.all([startQuickStartGateway({}, { addressable: true }), createSamlIdp()]);
  server = gateway.server;
  acsUrl = `${server.url}/api/auth/sso/saml/acs`;
  entityId = `${server.url}/api/auth/sso/saml/metadata`;
  complete = vi.spyOn(SamlSignIn.prototype, 'complete');
  await server.admin('PUT', '/sso/saml', {
    entryPoint: idp.ssoUrl,
    idpEntityId: idp.entityId,
    certificates: [idp.certificatePem],
  });
});
afterAll(async () => {
  complete?.mockRestore();
  await gateway?.close();
});

const SESSION_COOKIE = 'gatehouse_session';

/** A browser that keeps the session cookie and never follows redirects. */
class Browser {
  cookie: string | undefined;

  async get(pathOrUrl: string): Promise<Response> {
    return this.#keep(
      await fetch(new URL(pathOrUrl, server.url), {
        headers: this.cookie ? { cookie: this.cookie } : {},
        redirect: 'manual',
      }),
    );
  }

  async postForm(path: string, fields: Record<string, string>): Promise<Response> {
    return this.#keep(
      await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(this.cookie ? { cookie: this.cookie } : {}),
        },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      }),
    );
  }

  #keep(response: Response): Response {
    const session = sessionCookieOf(response);
    if (session) this.cookie = `${SESSION_COOKIE}=${session}`;
    return response;
  }
}

/** The session id a response sets, if any (a cleared cookie does not count). */
function sessionCookieOf(response: Response): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const match = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(header);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** Starts a sign-in as a browser does: our redirect to the IdP, read as the IdP reads it. */
async function startSignIn(browser: Browser, returnTo = '/api/auth/session'): Promise<SamlAuthnRequest> {
  const login = await browser.get(`/api/auth/sso/login?return_to=${encodeURIComponent(returnTo)}`);
  expect(login.status).toBe(303);
  const location = login.headers.get('location') ?? '';
  expect(location.startsWith(`${idp.ssoUrl}?`)).toBe(true);
  return idp.readAuthnRequest(location);
}

/** What an honest IdP answers to `request` for `email`. */
function answer(request: SamlAuthnRequest, email: string, overrides: Partial<SamlResponseOptions> = {}) {
  return { acsUrl, audience: entityId, inResponseTo: request.id, nameId: email, ...overrides };
}

function postToAcs(browser: Browser, samlResponse: string, relayState: string | undefined) {
  complete.mockClear();
  return browser.postForm('/api/auth/sso/saml/acs', {
    SAMLResponse: samlResponse,
    ...(relayState === undefined ? {} : { RelayState: relayState }),
  });
}

interface SessionView {
  user: { id: string; email: string; name: string | null };
  organization: { id: string; name: string };
}

/** Who `browser` is signed in as, per `/api/auth/session`. */
async function sessionOf(browser: Browser): Promise<SessionView> {
  const response = await browser.get('/api/auth/session');
  expect(response.status).toBe(200);
  return (await response.json()) as SessionView;
}

async function usersWithEmail(email: string): Promise<{ id: string; email: string; name: string | null }[]> {
  return (await server.admin('GET', `/users?email=${encodeURIComponent(email)}`)).data;
}

/** Why a refusal happened: the validator's error (`code message`), or what refused instead of it. */
type Reason = RegExp | 'no transaction' | 'replayed';

/**
 * Refused at the ACS: the status, no session cookie, nobody signed in, none of `emails` created,
 * and why: `reason` matches the validator's error; `'no transaction'` means the validator never
 * ran; `'replayed'` means it passed and the spent assertion id refused the response.
 */
async function expectRefused(
  browser: Browser,
  response: Response,
  expected: { status: 400 | 401; emails: readonly string[]; reason: Reason },
) {
  expect(response.status).toBe(expected.status);
  const [outcome] = complete.mock.settledResults;
  if (expected.reason === 'no transaction') expect(outcome).toBeUndefined();
  else if (expected.reason === 'replayed') expect(outcome?.type).toBe('fulfilled');
  else {
    expect(outcome?.type).toBe('rejected');
    const error = outcome?.value as Error & { code?: string };
    expect(`${error.code ?? ''} ${error.message}`).toMatch(expected.reason);
  }
  expect(sessionCookieOf(response)).toBeUndefined();
  expect(browser.cookie).toBeUndefined();
  expect((await browser.get('/api/auth/session')).status).toBe(401);
  for (const email of expected.emails) expect(await usersWithEmail(email)).toEqual([]);
}

/** A fresh browser starts a sign-in, and the IdP answers with `build(request)`. */
async function signInWith(build: (request: SamlAuthnRequest) => string) {
  const browser = new Browser();
  const request = await startSignIn(browser);
  const response = await postToAcs(browser, build(request), request.relayState);
  return { browser, request, response };
}

/** A pending sign-in for `request`'s id, stored as `/api/auth/sso/login` stores one; its RelayState. */
async function forgeTransaction(request: SamlAuthnRequest): Promise<string> {
  const relayState = `forged-${request.id}-${++counter}`;
  const { box, storage } = server.gatehouse;
  await saveSsoTransaction(storage.db, {
    idHash: box.hashToken(relayState),
    organizationId: 'org_default',
    protocol: 'saml',
    secretSealed: box.seal(JSON.stringify({ requestId: request.id }), 'sso-transaction'),
    returnTo: '/api/auth/session',
    expiresAt: new Date(Date.now() + 60_000),
  });
  return relayState;
}

let counter = 0;
/** A fresh person per test, so "no user was created" means this test's person. */
function person(label: string): string {
  counter += 1;
  return `${label}-${counter}@example.test`;
}

describe('SAML sign-in, end to end', () => {
  it('signs a CLI in through the device flow, with a SAML sign-in in the middle', async () => {
    const email = person('sam');
    const cli = await startDeviceAuthorization(server, 'saml-laptop');
    const browser = new Browser();

    // Not signed in: the device page sends the browser to sign in, then on to the IdP.
    const devicePage = await browser.get(cli.verification_uri_complete);
    expect(devicePage.status).toBe(303);
    const signInPath = devicePage.headers.get('location') ?? '';
    expect(signInPath).toMatch(/^\/api\/auth\/sso\/login\?return_to=/);
    const toIdp = await browser.get(signInPath);
    expect(toIdp.status).toBe(303);
    const request = idp.readAuthnRequest(toIdp.headers.get('location') ?? '');
    expect(request).toMatchObject({ issuer: entityId, acsUrl, destination: idp.ssoUrl });
    expect(request.relayState).toBeTruthy();
    expect(request.xml).toContain(`Format="${NAMEID_FORMAT_EMAIL}"`);
    expect(request.xml).not.toContain('RequestedAuthnContext');

    // The IdP signs the person in and posts its answer back with the RelayState.
    const acs = await postToAcs(
      browser,
      idp.response(answer(request, email, { name: 'Sam Lee' })),
      request.relayState,
    );
    expect(acs.status).toBe(303);
    expect(sessionCookieOf(acs)).toBeTruthy();
    const devicePath =
      new URL(cli.verification_uri_complete).pathname + new URL(cli.verification_uri_complete).search;
    expect(acs.headers.get('location')).toBe(devicePath);

    const session = await sessionOf(browser);
    expect(session.user).toMatchObject({ email, name: 'Sam Lee' });

    // Back on the device page: which device, which organisation, which code.
    const approvalPage = await browser.get(devicePath);
    expect(approvalPage.status).toBe(200);
    const html = await approvalPage.text();
    expect(html).toContain('saml-laptop');
    expect(html).toContain(session.organization.name);
    expect(html).toContain(cli.user_code);
    const approved = await browser.postForm('/api/auth/cli/device', {
      user_code: hiddenField(html, 'user_code'),
      csrf_token: hiddenField(html, 'csrf_token'),
      decision: 'approve',
    });
    expect(approved.status).toBe(200);

    // The CLI's next poll gets its tokens, and its key works with Anthropic's own SDK.
    const granted = await pollToken(server, cli.device_code);
    expect(granted.status).toBe(200);
    const tokens = granted.body;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.virtual_key).toMatch(/^gth_/);
    expect(tokens.refresh_token).toBeTruthy();
    expect(Date.parse(tokens.virtual_key_expires_at)).toBeGreaterThan(Date.now());
    const claude = new Anthropic({ authToken: tokens.virtual_key, baseURL: server.url, maxRetries: 0 });
    const message = await claude.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(message.content.length).toBeGreaterThan(0);

    // The person was created just in time, with a personal project, and is metered as themselves.
    const [user] = await usersWithEmail(email);
    expect(user?.id).toBe(session.user.id);
    const userId = session.user.id;
    const personal = await server.gatehouse.storage.db
      .select()
      .from(projects)
      .where(eq(projects.ownerUserId, userId));
    expect(personal).toHaveLength(1);
    const listed = (await server.admin('GET', '/projects')).data as { id: string; isPersonal: boolean }[];
    expect(listed.find((project) => project.id === personal[0]?.id)?.isPersonal).toBe(true);
    await server.flushUsage();
    const usage = await server.admin('GET', '/usage?groupBy=principal');
    expect(usage.rows.map((row: { group: string }) => row.group)).toContain(userId);
  });

  it('takes the email from an email-format NameID when no attribute carries one', async () => {
    const email = person('nameid-only');
    const { browser, response } = await signInWith((request) =>
      idp.response(answer(request, email, { email: null, name: 'Nia Meid' })),
    );
    expect(response.status).toBe(303);
    expect((await sessionOf(browser)).user).toMatchObject({ email, name: 'Nia Meid' });
  });

  it('refuses a person the IdP sends no email for (opaque NameID, no attribute)', async () => {
    const { browser, response } = await signInWith((request) =>
      idp.response(
        answer(request, `opaque-${++counter}`, {
          email: null,
          nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        }),
      ),
    );
    expect(response.status).toBe(403);
    expect(sessionCookieOf(response)).toBeUndefined();
    expect((await browser.get('/api/auth/session')).status).toBe(401);
  });

  it('accepts an assertion just past its NotOnOrAfter, within the 60 s clock skew', async () => {
    const email = person('skewed');
    const { response } = await signInWith((request) =>
      idp.response(
        answer(request, email, {
          issueInstant: new Date(Date.now() - 2 * 60_000),
          notOnOrAfter: new Date(Date.now() - 20_000),
        }),
      ),
    );
    expect(response.status).toBe(303);
  });

  it('publishes SP metadata naming our ACS URL and entity id', async () => {
    const response = await fetch(`${server.url}/api/auth/sso/saml/metadata`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await response.text();
    expect(xml).toContain(`entityID="${entityId}"`);
    expect(xml).toContain(`Location="${acsUrl}"`);
    expect(xml).toContain('WantAssertionsSigned="true"');
    expect(xml).toContain(NAMEID_FORMAT_EMAIL);
  });
});

describe('the ACS refuses', () => {
  let impostor: SamlIdp;
  beforeAll(async () => {
    impostor = await createSamlIdp({ entityId: idp.entityId });
  });

  const elsewhere = 'https://elsewhere.example.test/acs';
  const past = () => Date.now() - 10 * 60_000;
  /** Each case answers for `email`; an attacker's edit would make it `evil-` + `email`. */
  const forgeries: {
    what: string;
    reason: RegExp;
    build(request: SamlAuthnRequest, email: string): string;
  }[] = [
    {
      what: 'an unsigned response',
      reason: /signature/i,
      build: (request, email) => idp.response(answer(request, email, { sign: 'none' })),
    },
    {
      what: 'a response signed only on the Response (assertions must be signed)',
      reason: /Invalid signature/,
      build: (request, email) => idp.response(answer(request, email, { sign: 'response' })),
    },
    {
      what: 'a response whose email was edited after signing',
      reason: /signature/i,
      build: (request, email) =>
        tamper(idp.response(answer(request, email)), (xml) => xml.replaceAll(email, `evil-${email}`)),
    },
    {
      what: 'an expired assertion',
      reason: /No valid subject confirmation|expired/,
      build: (request, email) =>
        idp.response(
          answer(request, email, {
            issueInstant: new Date(past() - 5 * 60_000),
            notOnOrAfter: new Date(past()),
          }),
        ),
    },
    {
      what: 'an assertion older than the maximum age, however late its NotOnOrAfter',
      reason: /No valid subject confirmation|too old/,
      build: (request, email) =>
        idp.response(
          answer(request, email, {
            issueInstant: new Date(Date.now() - 20 * 60_000),
            notOnOrAfter: new Date(Date.now() + 60 * 60_000),
          }),
        ),
    },
    {
      what: 'an assertion for another audience',
      reason: /audience mismatch/,
      build: (request, email) =>
        idp.response(answer(request, email, { audience: 'https://other-sp.example.test' })),
    },
    {
      what: 'an assertion signed by another key, under the trusted IdP’s entity id',
      reason: /signature/i,
      build: (request, email) => impostor.response(answer(request, email)),
    },
    {
      what: 'an assertion from another Issuer, signed with the trusted key',
      reason: /^saml_wrong_issuer /,
      build: (request, email) =>
        idp.response(answer(request, email, { issuer: 'https://other-idp.example.test' })),
    },
    {
      what: 'an assertion for another Recipient',
      reason: /^saml_wrong_recipient /,
      build: (request, email) => idp.response(answer(request, email, { recipient: elsewhere })),
    },
    {
      what: 'a response for another Destination',
      reason: /^saml_wrong_destination /,
      build: (request, email) => idp.response(answer(request, email, { destination: elsewhere })),
    },
    {
      what: 'an IdP-initiated response posted into a sign-in we started',
      reason: /InResponseTo is missing/,
      build: (request, email) => {
        const { inResponseTo: _none, ...unsolicited } = answer(request, email);
        return idp.response(unsolicited);
      },
    },
    {
      what: 'an IdP-initiated assertion re-wrapped as the answer to our request',
      reason: /^saml_wrong_in_response_to /,
      build: (request, email) => {
        // Only the assertion is signed: the Response's own InResponseTo can be added afterwards.
        const { inResponseTo: _none, ...unsolicited } = answer(request, email);
        return tamper(idp.response(unsolicited), (xml) =>
          xml.replace(`Destination="${acsUrl}"`, `Destination="${acsUrl}" InResponseTo="${request.id}"`),
        );
      },
    },
  ];
  it.each(forgeries)('$what', async ({ build, reason }) => {
    const email = person('forged');
    const { browser, response } = await signInWith((request) => build(request, email));
    await expectRefused(browser, response, { status: 401, emails: [email, `evil-${email}`], reason });
  });

  // node-saml refuses each wrapping as SAML Raider builds it; XSW7 with a fresh ID for the evil
  // assertion (hidden in <samlp:Extensions>) is accepted, but only as the signed person.
  const wrappings: { variant: XswVariant; freshEvilId: boolean; signsInAs: 'nobody' | 'victim' }[] = [
    ...XSW_VARIANTS.map((variant) => ({ variant, freshEvilId: false, signsInAs: 'nobody' as const })),
    { variant: 7, freshEvilId: true, signsInAs: 'victim' },
    { variant: 8, freshEvilId: true, signsInAs: 'nobody' },
  ];
  it.each(wrappings)(
    'a wrapped (XSW$variant, fresh evil id: $freshEvilId) response never signs the attacker in',
    async ({ variant, freshEvilId, signsInAs }) => {
      const victim = person(`xsw${variant}-victim`);
      const attacker = person(`xsw${variant}-attacker`);
      const { browser, response } = await signInWith((request) =>
        idp.wrappedResponse({
          ...answer(request, victim),
          attackerEmail: attacker,
          variant,
          ...(freshEvilId ? { evilAssertionId: `_evil-${variant}-${counter}` } : {}),
        }),
      );
      expect(await usersWithEmail(attacker)).toEqual([]);
      if (signsInAs === 'nobody') {
        await expectRefused(browser, response, {
          status: 401,
          emails: [victim, attacker],
          reason: /signature/i,
        });
      } else {
        expect(response.status).toBe(303);
        const session = await sessionOf(browser);
        expect(session.user.email).toBe(victim);
      }
    },
  );

  it('an answer to another sign-in’s request (the request id comes from our transaction)', async () => {
    const browser = new Browser();
    const email = person('crossed');
    const first = await startSignIn(browser);
    const second = await startSignIn(browser);
    const response = await postToAcs(browser, idp.response(answer(first, email)), second.relayState);
    await expectRefused(browser, response, {
      status: 401,
      emails: [email],
      reason: /InResponseTo is not valid/,
    });
  });

  it('unsolicited responses: no RelayState, or one we never issued', async () => {
    const browser = new Browser();
    const email = person('unsolicited');
    const samlResponse = idp.response({ acsUrl, audience: entityId, nameId: email });
    const refused = { status: 400, emails: [email], reason: 'no transaction' } as const;
    await expectRefused(browser, await postToAcs(browser, samlResponse, undefined), refused);
    await expectRefused(browser, await postToAcs(browser, samlResponse, 'made-up-relay-state'), refused);
  });

  it('a replayed assertion, even inside a fresh transaction for the same request', async () => {
    const email = person('replay');
    let samlResponse = '';
    const { request, response } = await signInWith((request) => {
      samlResponse = idp.response(answer(request, email));
      return samlResponse;
    });
    expect(response.status).toBe(303);
    const [user] = await usersWithEmail(email);
    expect(user).toBeDefined();
    // The assertion id is remembered until the assertion could no longer be accepted anyway.
    const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(decodeSamlResponse(samlResponse))?.[1];
    const [spent] = await server.gatehouse.storage.db
      .select()
      .from(spentNonces)
      .where(eq(spentNonces.nonce, `saml:${assertionId}`));
    expect(spent?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(spent?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 6 * 60_000);

    // The transaction is single-use: the same RelayState again finds nothing.
    const again = new Browser();
    await expectRefused(again, await postToAcs(again, samlResponse, request.relayState), {
      status: 400,
      emails: [],
      reason: 'no transaction',
    });

    // A transaction forged for the same request id gets past InResponseTo; the spent assertion
    // id still refuses it.
    const attacker = new Browser();
    await expectRefused(attacker, await postToAcs(attacker, samlResponse, await forgeTransaction(request)), {
      status: 401,
      emails: [],
      reason: 'replayed',
    });

    // …whereas a new assertion (new ID) for that same request and transaction shape is accepted:
    // what refused the replay was the assertion id alone.
    const fresh = new Browser();
    const reissued = idp.response(answer(request, email));
    expect((await postToAcs(fresh, reissued, await forgeTransaction(request))).status).toBe(303);
    expect((await sessionOf(fresh)).user.id).toBe(user?.id);
  });
});
