import { randomBytes } from 'node:crypto';
import { admitIdentity } from '../../src/control/sso/admit-identity.js';
import { getOrganization } from '../../src/store/organizations.js';
import { webSessions } from '../../src/store/schema.js';
import type { UserRow } from '../../src/store/users.js';
import type { TestGatehouse } from './harness.js';

/**
 * The CLI and browser halves of a sign-in, for tests of what comes after SSO: a browser
 * session made the way a finished SSO sign-in makes one, and the OAuth calls a CLI sends.
 */

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A person signed in in a browser, as if they had just come back from the identity provider. */
export interface Browser {
  user: UserRow;
  cookie: string;
  /** GET with the session cookie, never following redirects. */
  get(path: string): Promise<Response>;
  /** POSTs an HTML form with the session cookie. */
  postForm(path: string, fields: Record<string, string>): Promise<Response>;
}

export async function signedInBrowser(server: TestGatehouse, email: string): Promise<Browser> {
  const { db } = server.gatehouse.storage;
  const organization = await getOrganization(db, 'org_default');
  if (!organization) throw new Error('no default organisation');
  const { user } = await admitIdentity(db, organization, {
    protocol: 'oidc',
    subject: `sub-${email}`,
    email,
    emailVerified: true,
    name: email.split('@')[0],
  });
  const sessionId = randomBytes(32).toString('base64url');
  await db.insert(webSessions).values({
    idHash: server.gatehouse.box.hashToken(sessionId),
    organizationId: user.organizationId,
    userId: user.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  const cookie = `gatehouse_session=${sessionId}`;
  return {
    user,
    cookie,
    get: (path) => fetch(`${server.url}${path}`, { headers: { cookie }, redirect: 'manual' }),
    postForm: (path, fields) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      }),
  };
}

/** The value of a hidden form field on a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} on the page`);
  return match[1].replaceAll('&amp;', '&');
}

/** POSTs OAuth form parameters, as RFC 6749 clients do. */
export async function oauthPost(
  server: TestGatehouse,
  path: string,
  fields: Record<string, string>,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever OAuth fields the endpoint returns.
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export async function startDeviceAuthorization(
  server: TestGatehouse,
  deviceName = 'test-laptop',
): Promise<DeviceAuthorization> {
  const { status, body } = await oauthPost(server, '/api/auth/cli/device/code', {
    client_id: 'gatehouse-cli',
    device_name: deviceName,
  });
  if (status !== 200) throw new Error(`device authorization → ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** The person approves (or denies) the code on the verification page, as a browser would. */
export async function decideOnPage(
  browser: Browser,
  device: DeviceAuthorization,
  decision: 'approve' | 'deny',
): Promise<Response> {
  const pagePath =
    new URL(device.verification_uri_complete).pathname + new URL(device.verification_uri_complete).search;
  const page = await browser.get(pagePath);
  if (page.status !== 200) throw new Error(`verification page → ${page.status}`);
  const html = await page.text();
  return browser.postForm('/api/auth/cli/device', {
    user_code: hiddenField(html, 'user_code'),
    csrf_token: hiddenField(html, 'csrf_token'),
    decision,
  });
}

export function pollToken(server: TestGatehouse, deviceCode: string) {
  return oauthPost(server, '/api/auth/cli/token', {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: 'gatehouse-cli',
  });
}

export function refresh(server: TestGatehouse, refreshToken: string) {
  return oauthPost(server, '/api/auth/cli/token', {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: 'gatehouse-cli',
  });
}

/** The person answers the loopback sign-in's consent page; returns the redirect to the CLI. */
export async function decideLoopback(
  browser: Browser,
  authorizeUrl: string,
  decision: 'approve' | 'deny',
): Promise<Response> {
  const url = new URL(authorizeUrl, 'http://placeholder');
  const page = await browser.get(url.pathname + url.search);
  if (page.status !== 200) throw new Error(`consent page → ${page.status}`);
  const html = await page.text();
  const fields: Record<string, string> = { decision };
  for (const name of ['client_id', 'redirect_uri', 'code_challenge', 'state', 'device_name', 'csrf_token']) {
    fields[name] = hiddenField(html, name);
  }
  return browser.postForm('/api/auth/cli/authorize', fields);
}
