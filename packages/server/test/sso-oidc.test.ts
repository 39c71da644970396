import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OidcSignIn, OidcSignInError } from '../src/control/sso/oidc.js';
import { hiddenField, pollToken, startDeviceAuthorization } from './support/cli-sign-in.js';
import {
  ADMIN_TOKEN,
  freePort,
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from './support/harness.js';
import { type OidcProvider, type OidcProviderClient, startOidcProvider } from './support/oidc-provider.js';
import { SsoBrowser } from './support/sso-browser.js';

/**
 * Web sign-in through a real OpenID Connect provider (panva's oidc-provider, in its own
 * process), over real HTTP on loopback: the device flow end to end, the refusals, and a
 * connection made through the admin API.
 */

const CLIENT_ID = 'gatehouse';
const CLIENT_SECRET = 'first-provider-client-secret-0123456789';
const SECOND_CLIENT_ID = 'gatehouse-admin-configured';
const SECOND_CLIENT_SECRET = 'second-provider-client-secret-9876543210';
const PUBLIC_CLIENT_ID = 'gatehouse-public';

let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let provider: OidcProvider | undefined;
let secondProvider: OidcProvider | undefined;
let redirectUri: string;

beforeAll(async () => {
  // The provider must know the gateway's redirect URI before either starts, so the gateway's
  // port is chosen first and handed to it as PORT (its public URL follows from it).
  const port = await freePort();
  redirectUri = `http://127.0.0.1:${port}/api/auth/sso/oidc/callback`;
  const accounts = {
    ada: { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' },
    grace: { email: 'grace@example.com', email_verified: true, name: 'Grace Hopper' },
    unverified: { email: 'unverified@example.com', email_verified: false, name: 'Not Verified' },
    outsider: { email: 'x@other.test', email_verified: true, name: 'Out Sider' },
    // No email at all, in the ID token or at userinfo.
    anonymous: { name: 'No Email' } as unknown as { email: string; email_verified: boolean; name: string },
  };
  // A public client whose ID tokens are ES256-signed: PKCE alone, and a non-default algorithm.
  const publicClient: OidcProviderClient = {
    client_id: PUBLIC_CLIENT_ID,
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    ...{ id_token_signed_response_alg: 'ES256' },
  };
  [provider, secondProvider] = await Promise.all([
    startOidcProvider({
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri] }],
      accounts,
    }),
    startOidcProvider({
      clients: [
        { client_id: SECOND_CLIENT_ID, client_secret: SECOND_CLIENT_SECRET, redirect_uris: [redirectUri] },
        publicClient,
      ],
      accounts,
    }),
  ]);
  gateway = await startQuickStartGateway({
    PORT: String(port),
    GATEHOUSE_OIDC_ISSUER: provider.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: CLIENT_ID,
    GATEHOUSE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
  });
  server = gateway.server;
  expect(`${server.url}/api/auth/sso/oidc/callback`).toBe(redirectUri);
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([provider?.close(), secondProvider?.close()]);
});

/** A browser on this gateway that signs in at `identityProvider` as `accountId`. */
class Browser extends SsoBrowser {
  constructor(identityProvider: OidcProvider, accountId: string) {
    super(server.url, identityProvider, accountId);
  }
}

/** The admin API when the status is the point (the harness's helper throws on errors). */
async function adminCall(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function urlOf(input: string | URL | Request): string {
  return input instanceof Request ? input.url : String(input);
}

/** Who `/api/auth/session` says is signed in. */
async function signedInEmail(response: Response): Promise<string> {
  const session = (await response.json()) as { user: { email: string } };
  return session.user.email;
}

async function usersWithEmail(email: string): Promise<Array<{ id: string; email: string; name: string }>> {
  return (await server.admin('GET', `/users?email=${encodeURIComponent(email)}`)).data;
}

describe('CLI device sign-in through OIDC', () => {
  it('signs a person in at the identity provider, approves the device and gives the CLI a working personal key', async () => {
    const started = Date.now();
    // The CLI asks for a device code.
    const device = await startDeviceAuthorization(server, 'test-laptop');

    // The browser opens the link: not signed in, so through SSO and back to the device page.
    const browser = new Browser(provider as OidcProvider, 'ada');
    const { response: page, trail } = await browser.visit(device.verification_uri_complete);
    expect(trail).toEqual([
      '/api/auth/cli/device',
      '/api/auth/sso/login',
      'provider /auth',
      '/api/auth/sso/oidc/callback',
      '/api/auth/cli/device',
    ]);
    expect(browser.cookie).toMatch(/^gatehouse_session=/);
    const html = await page.text();
    expect(page.status).toBe(200);
    const organization = await server.admin('GET', '/organization');
    expect(html).toContain('test-laptop');
    expect(html).toContain(organization.name);
    expect(html).toContain(device.user_code);
    expect(html).toContain('ada@example.com');

    // The person approves, with the page's CSRF token.
    const approved = await browser.postForm('/api/auth/cli/device', {
      user_code: hiddenField(html, 'user_code'),
      csrf_token: hiddenField(html, 'csrf_token'),
      decision: 'approve',
    });
    expect(approved.status).toBe(200);

    // The CLI's next poll gets its tokens and a personal key good for a day.
    const { status, body: tokens } = await pollToken(server, device.device_code);
    expect(status).toBe(200);
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.virtual_key).toMatch(/^gth_/);
    const keyLifetime = Date.parse(tokens.virtual_key_expires_at) - started;
    expect(keyLifetime).toBeGreaterThan(24 * 3_600_000 - 60_000);
    expect(keyLifetime).toBeLessThan(24 * 3_600_000 + 60_000);

    // The person was created from the ID token, with a personal project.
    const [user] = await usersWithEmail('ada@example.com');
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
    const projects = (await server.admin('GET', '/projects')).data as Array<{ isPersonal: boolean }>;
    expect(projects.filter((project) => project.isPersonal)).toHaveLength(1);

    // The key works with the official SDK, and the spend is the person's.
    const openai = new OpenAI({
      apiKey: tokens.virtual_key,
      baseURL: `${server.url}/api/v1`,
      maxRetries: 0,
    });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
    await server.flushUsage();
    const usage = await server.admin('GET', '/usage?groupBy=principal');
    expect(usage.rows.map((row: { group: string }) => row.group)).toContain(user?.id);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const browser = new Browser(provider as OidcProvider, 'grace');
    const { response } = await browser.visit('/api/auth/sso/login?return_to=/api/auth/session');
    expect(response.status).toBe(200);
    expect(await signedInEmail(response)).toBe('grace@example.com');
    const session = browser.setCookies.find((header) => header.startsWith('gatehouse_session='));
    expect(session).toMatch(/;\s*HttpOnly/i);
    expect(session).toMatch(/;\s*SameSite=Lax/i);
    expect(session).toMatch(/;\s*Path=\//i);
  });
});

describe('refused sign-ins', () => {
  it('refuses a callback with an unknown state', async () => {
    const browser = new Browser(provider as OidcProvider, 'ada');
    const response = await browser.get('/api/auth/sso/oidc/callback?code=anything&state=never-issued');
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('expired or was already used');
    expect(browser.cookie).toBeUndefined();
  });

  it('refuses a callback replayed with an already used state', async () => {
    const browser = new Browser(provider as OidcProvider, 'ada');
    const callback = await browser.callbackUrl();
    expect((await browser.get(callback.href)).status).toBe(303);
    const replay = new Browser(provider as OidcProvider, 'ada');
    const replayed = await replay.get(callback.href);
    expect(replayed.status).toBe(400);
    expect(replay.cookie).toBeUndefined();
  });

  it('refuses a callback whose code was tampered with', async () => {
    const browser = new Browser(provider as OidcProvider, 'ada');
    const callback = await browser.callbackUrl();
    const code = callback.searchParams.get('code') as string;
    callback.searchParams.set('code', `${code.slice(0, -4)}AAAA`);
    const response = await browser.get(callback.href);
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain(code);
    expect(browser.cookie).toBeUndefined();
  });

  it('refuses a person whose email the provider has not verified, and creates no user', async () => {
    const browser = new Browser(provider as OidcProvider, 'unverified');
    const { response } = await browser.visit('/api/auth/sso/login');
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('not verified your email');
    expect(browser.cookie).toBeUndefined();
    expect(await usersWithEmail('unverified@example.com')).toEqual([]);
  });

  it('refuses a person for whom neither the ID token nor userinfo has an email', async () => {
    const browser = new Browser(provider as OidcProvider, 'anonymous');
    const { response } = await browser.visit('/api/auth/sso/login');
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('did not send an email');
  });

  it("refuses an email outside the organisation's domains", async () => {
    await server.admin('PATCH', '/organization', { emailDomains: ['example.com'] });
    try {
      const browser = new Browser(provider as OidcProvider, 'outsider');
      const { response } = await browser.visit('/api/auth/sso/login');
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('domain');
      expect(await usersWithEmail('x@other.test')).toEqual([]);
    } finally {
      await server.admin('PATCH', '/organization', { emailDomains: [] });
    }
  });

  it('rejects a plain-http issuer that is not on loopback', async () => {
    const refused = await adminCall('PUT', '/sso/oidc', {
      issuer: 'http://login.example.com',
      clientId: 'someone',
      clientSecret: 'secret',
    });
    expect(refused.status).toBe(400);
    expect((await adminCall('GET', '/sso')).body.oidc.issuer).toBe((provider as OidcProvider).issuer);
  });
});

describe('OidcSignIn checks', () => {
  const connection = () => ({
    protocol: 'oidc' as const,
    issuer: (provider as OidcProvider).issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });

  it("returns the identity from an ID token whose signature was checked with the provider's keys", async () => {
    const oidc = new OidcSignIn({ redirectUri });
    const issuer = (provider as OidcProvider).issuer;
    const { jwks_uri: jwksUri } = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as { jwks_uri: string };
    const spy = vi.spyOn(globalThis, 'fetch');
    try {
      const { url, pending } = await oidc.begin(connection());
      const callback = new URL(await (provider as OidcProvider).signIn(url, 'ada'));
      expect(await oidc.complete(connection(), callback, pending)).toEqual({
        protocol: 'oidc',
        subject: 'ada',
        email: 'ada@example.com',
        emailVerified: true,
        name: 'Ada Lovelace',
      });
      expect(spy.mock.calls.map(([input]) => urlOf(input))).toContain(jwksUri);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const oidc = new OidcSignIn({ redirectUri });
    const { url, pending } = await oidc.begin(connection());
    const callback = new URL(await (provider as OidcProvider).signIn(url, 'ada'));
    const refusal = await oidc
      .complete(connection(), callback, { ...pending, nonce: 'some-other-nonce' })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OidcSignInError);
    expect((refusal as OidcSignInError).code).toBe('authorization_failed');
    expect((refusal as OidcSignInError).message).toMatch(/nonce/);
  });

  it('refuses a wrong client secret without putting the secret or the code in the error', async () => {
    const oidc = new OidcSignIn({ redirectUri });
    const wrongSecret = 'wrong-client-secret-value';
    const wrong = { ...connection(), clientSecret: wrongSecret };
    const { url, pending } = await oidc.begin(wrong);
    const callback = new URL(await (provider as OidcProvider).signIn(url, 'ada'));
    const refusal = (await oidc.complete(wrong, callback, pending).catch((error: unknown) => error)) as Error;
    expect(refusal).toBeInstanceOf(OidcSignInError);
    expect(refusal.message).toContain('invalid_client');
    const everything = JSON.stringify({ ...refusal, message: refusal.message, stack: refusal.stack });
    for (const secret of [wrongSecret, callback.searchParams.get('code') as string, pending.codeVerifier]) {
      expect(everything).not.toContain(secret);
    }
    expect(refusal.cause).toBeUndefined();
  });

  it('refuses a plain-http issuer that is not on loopback before contacting it', async () => {
    const oidc = new OidcSignIn({ redirectUri });
    const refusal = await oidc
      .begin({ ...connection(), issuer: 'http://login.example.com' })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'insecure_issuer' });
  });

  it('discovers once for concurrent sign-ins and again when the cache lifetime or the connection changes', async () => {
    let now = Date.now();
    const oidc = new OidcSignIn({ redirectUri, now: () => now });
    const spy = vi.spyOn(globalThis, 'fetch');
    const discoveries = () =>
      spy.mock.calls.filter(([input]) => urlOf(input).includes('/.well-known/')).length;
    try {
      const begun = await Promise.all([1, 2, 3, 4].map(() => oidc.begin(connection())));
      expect(new Set(begun.map(({ pending }) => pending.state)).size).toBe(4);
      expect(new Set(begun.map(({ pending }) => pending.nonce)).size).toBe(4);
      expect(discoveries()).toBe(1);
      const authorization = new URL(begun[0]?.url as string);
      expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorization.searchParams.get('scope')).toBe('openid email profile');
      expect(authorization.searchParams.get('redirect_uri')).toBe(redirectUri);

      now += 11 * 60_000;
      await oidc.begin(connection());
      expect(discoveries()).toBe(2);
      await oidc.begin({ ...connection(), clientSecret: 'a-rotated-secret' });
      expect(discoveries()).toBe(3);
      await oidc.begin(connection());
      expect(discoveries()).toBe(3);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('an OIDC connection made through the admin API', () => {
  it("shows the environment's connection as such, and refuses to remove it, naming where it is set", async () => {
    const settings = await adminCall('GET', '/sso');
    expect(settings.body.oidc).toMatchObject({
      issuer: (provider as OidcProvider).issuer,
      fromEnvironment: true,
    });
    const removed = await adminCall('DELETE', '/sso/oidc');
    expect(removed.status).toBe(409);
    expect(removed.body.error).toMatchObject({ code: 'set_by_environment' });
    expect(removed.body.error.message).toContain('GATEHOUSE_OIDC_*');
    // A SAML connection never comes from the environment: nothing there to remove is a 404.
    expect((await adminCall('DELETE', '/sso/saml')).status).toBe(404);
  });

  it('signs people in through the configured provider, and the settings never show the secret', async () => {
    const second = secondProvider as OidcProvider;
    const put = await adminCall('PUT', '/sso/oidc', {
      issuer: second.issuer,
      clientId: SECOND_CLIENT_ID,
      clientSecret: SECOND_CLIENT_SECRET,
    });
    try {
      expect(put.status).toBe(200);
      const settings = await adminCall('GET', '/sso');
      expect(settings.body.oidc).toEqual({
        issuer: second.issuer,
        clientId: SECOND_CLIENT_ID,
        hasClientSecret: true,
        fromEnvironment: false,
      });
      expect(settings.body.redirectUri).toBe(redirectUri);
      expect(JSON.stringify(put.body)).not.toContain(SECOND_CLIENT_SECRET);
      expect(JSON.stringify(settings.body)).not.toContain(SECOND_CLIENT_SECRET);

      // The stored connection wins over the environment's: sign-in goes to the second provider.
      const browser = new Browser(second, 'grace');
      const { response, trail } = await browser.visit('/api/auth/sso/login?return_to=/api/auth/session');
      expect(trail).toContain('provider /auth');
      expect(response.status).toBe(200);
      expect(await signedInEmail(response)).toBe('grace@example.com');

      // A public client (PKCE only, no secret) whose provider signs its ID tokens with ES256.
      const publicPut = await adminCall('PUT', '/sso/oidc', {
        issuer: second.issuer,
        clientId: PUBLIC_CLIENT_ID,
      });
      expect(publicPut.body.oidc).toMatchObject({ clientId: PUBLIC_CLIENT_ID, hasClientSecret: false });
      const publicBrowser = new Browser(second, 'ada');
      const signedIn = await publicBrowser.visit('/api/auth/sso/login?return_to=/api/auth/session');
      expect(signedIn.response.status).toBe(200);
      expect(await signedInEmail(signedIn.response)).toBe('ada@example.com');
    } finally {
      await adminCall('DELETE', '/sso/oidc');
    }
  });

  it('keeps the stored client secret when asked, for the same client only', async () => {
    const second = secondProvider as OidcProvider;
    await adminCall('PUT', '/sso/oidc', {
      issuer: second.issuer,
      clientId: SECOND_CLIENT_ID,
      clientSecret: SECOND_CLIENT_SECRET,
    });
    try {
      // A form that cannot read the secret back re-saves the settings without it.
      const kept = await adminCall('PUT', '/sso/oidc', {
        issuer: `${second.issuer}/`,
        clientId: SECOND_CLIENT_ID,
        keepClientSecret: true,
      });
      expect(kept.status).toBe(200);
      expect(kept.body.oidc).toEqual({
        issuer: second.issuer,
        clientId: SECOND_CLIENT_ID,
        hasClientSecret: true,
        fromEnvironment: false,
      });
      const browser = new Browser(second, 'grace');
      const { response } = await browser.visit('/api/auth/sso/login?return_to=/api/auth/session');
      expect(await signedInEmail(response)).toBe('grace@example.com');

      const otherClient = await adminCall('PUT', '/sso/oidc', {
        issuer: second.issuer,
        clientId: PUBLIC_CLIENT_ID,
        keepClientSecret: true,
      });
      expect(otherClient.status).toBe(400);
      expect(otherClient.body.error.message).toContain('keepClientSecret');
      const both = await adminCall('PUT', '/sso/oidc', {
        issuer: second.issuer,
        clientId: SECOND_CLIENT_ID,
        clientSecret: SECOND_CLIENT_SECRET,
        keepClientSecret: true,
      });
      expect(both.status).toBe(400);
      expect((await adminCall('GET', '/sso')).body.oidc.hasClientSecret).toBe(true);
    } finally {
      await adminCall('DELETE', '/sso/oidc');
    }
  });

  it('shows an error page, not an internal error, when the provider cannot be reached', async () => {
    // Nothing listens on port 1; discovery fails at once.
    const put = await adminCall('PUT', '/sso/oidc', { issuer: 'https://127.0.0.1:1', clientId: 'nobody' });
    try {
      expect(put.status).toBe(200);
      const response = await new Browser(provider as OidcProvider, 'ada').get('/api/auth/sso/login');
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('could not be reached');
    } finally {
      await adminCall('DELETE', '/sso/oidc');
    }
  });
});
