import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceAuthorizations } from '../src/store/schema.js';
import {
  type Browser,
  DEVICE_GRANT,
  decideLoopback,
  decideOnPage,
  hiddenField,
  oauthPost,
  pollToken,
  refresh,
  signedInBrowser,
  startDeviceAuthorization,
} from './support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/** CLI sign-in as an OAuth 2.0 authorization server: device flow, loopback + PKCE, refresh, sign-out. */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let browser: Browser;

beforeAll(async () => {
  // Sign-in is refused where no identity provider is set up; these tests sign people in
  // directly (signedInBrowser), so the development provider stands in for one.
  gateway = await startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'dev@example.com' }, { addressable: true });
  server = gateway.server;
  browser = await signedInBrowser(server, 'dana@example.com');
});
afterAll(() => gateway?.close());

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** Time passing for a device authorization: its last poll was long ago, or it has run out. */
async function age(deviceCode: string, change: { lastPolledAt?: Date; expiresAt?: Date }) {
  await server.gatehouse.storage.db
    .update(deviceAuthorizations)
    .set(change)
    .where(eq(deviceAuthorizations.deviceCodeHash, server.gatehouse.box.hashToken(deviceCode)));
}

/** A full device sign-in by `browser`'s person; returns the token response. */
async function signInDevice(deviceName = 'test-laptop') {
  const device = await startDeviceAuthorization(server, deviceName);
  expect((await decideOnPage(browser, device, 'approve')).status).toBe(200);
  const { status, body } = await pollToken(server, device.device_code);
  expect(status).toBe(200);
  return body;
}

describe('authorization server metadata (RFC 8414)', () => {
  it('publishes the CLI endpoints at the origin and for the /api issuer path', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/api',
    ]) {
      const metadata = await (await fetch(`${server.url}${path}`)).json();
      expect(metadata).toMatchObject({
        issuer: server.url,
        device_authorization_endpoint: `${server.url}/api/auth/cli/device/code`,
        token_endpoint: `${server.url}/api/auth/cli/token`,
        authorization_endpoint: `${server.url}/api/auth/cli/authorize`,
        revocation_endpoint: `${server.url}/api/auth/cli/revoke`,
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      });
      expect(metadata.grant_types_supported).toEqual(
        expect.arrayContaining([DEVICE_GRANT, 'refresh_token', 'authorization_code']),
      );
    }
  });
});

describe('device authorization grant (RFC 8628)', () => {
  it('signs a device in: pending, slow_down, approval on the page, then a personal key that works', async () => {
    const device = await startDeviceAuthorization(server, 'dana-laptop');
    expect(device).toMatchObject({ expires_in: 600, interval: 5 });
    expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.verification_uri_complete).toBe(`${device.verification_uri}?user_code=${device.user_code}`);

    const pending = await pollToken(server, device.device_code);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe('authorization_pending');
    const tooFast = await pollToken(server, device.device_code);
    expect(tooFast.status).toBe(400);
    expect(tooFast.body.error).toBe('slow_down');
    // The interval grew by five seconds: polling again at the old pace is still too fast, and a
    // poll after the new interval is merely pending.
    await age(device.device_code, { lastPolledAt: new Date(Date.now() - 6_000) });
    expect((await pollToken(server, device.device_code)).body.error).toBe('slow_down');
    await age(device.device_code, { lastPolledAt: new Date(Date.now() - 16_000) });
    expect((await pollToken(server, device.device_code)).body.error).toBe('authorization_pending');

    // The page shows what is being approved: the device, the organisation, the code.
    const page = await browser.get(`/api/auth/cli/device?user_code=${device.user_code.toLowerCase()}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('dana-laptop');
    expect(html).toContain('Default organisation');
    expect(html).toContain(device.user_code);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect((await decideOnPage(browser, device, 'approve')).status).toBe(200);

    // Once approved, the next poll gets the tokens.
    const granted = await pollToken(server, device.device_code);
    expect(granted.status).toBe(200);
    expect(granted.headers.get('cache-control')).toBe('no-store');
    const tokens = granted.body;
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: tokens.virtual_key });
    expect(tokens.virtual_key).toMatch(/^gth_/);
    expect(tokens.refresh_token).toMatch(/^ghr_/);
    expect(tokens.expires_in).toBeGreaterThan(86_400 - 60);
    expect(Date.parse(tokens.virtual_key_expires_at) - Date.now()).toBeGreaterThan(86_340_000);

    const answer = await chat(tokens.access_token);
    expect(answer.status).toBe(200);
    await server.flushUsage();
    const usage = await server.admin('GET', '/usage?groupBy=principal');
    expect(usage.rows.map((row: { group: string }) => row.group)).toContain(browser.user.id);

    // The device code is spent: a second exchange gets nothing.
    expect((await pollToken(server, device.device_code)).body.error).toBe('invalid_grant');
  });

  it('answers access_denied when the person denies the code', async () => {
    const device = await startDeviceAuthorization(server);
    expect((await decideOnPage(browser, device, 'deny')).status).toBe(200);
    const denied = await pollToken(server, device.device_code);
    expect(denied.status).toBe(400);
    expect(denied.body).toMatchObject({ error: 'access_denied' });
  });

  it('answers expired_token once the code has run out, and the page no longer accepts it', async () => {
    const device = await startDeviceAuthorization(server);
    await age(device.device_code, { expiresAt: new Date(Date.now() - 1_000) });
    const expired = await pollToken(server, device.device_code);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('expired_token');
    expect((await browser.get(`/api/auth/cli/device?user_code=${device.user_code}`)).status).toBe(404);
  });

  it('refuses unknown clients, unknown codes and unsupported grants with RFC 6749 errors', async () => {
    const stranger = await oauthPost(server, '/api/auth/cli/device/code', { client_id: 'evil-cli' });
    expect(stranger.status).toBe(401);
    expect(stranger.body.error).toBe('invalid_client');
    expect((await pollToken(server, 'not-a-device-code')).body.error).toBe('invalid_grant');
    const unsupported = await oauthPost(server, '/api/auth/cli/token', {
      grant_type: 'password',
      client_id: 'gatehouse-cli',
    });
    expect(unsupported).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  it('sends a visitor without a session to single sign-on, and back to the page afterwards', async () => {
    const device = await startDeviceAuthorization(server);
    const page = await fetch(device.verification_uri_complete, { redirect: 'manual' });
    expect(page.status).toBe(303);
    const location = new URL(page.headers.get('location') as string, server.url);
    expect(location.pathname).toBe('/api/auth/sso/login');
    expect(location.searchParams.get('return_to')).toBe(`/api/auth/cli/device?user_code=${device.user_code}`);
  });

  it('refuses an approval without the page’s CSRF token or from another origin', async () => {
    const device = await startDeviceAuthorization(server);
    const page = await (await browser.get(`/api/auth/cli/device?user_code=${device.user_code}`)).text();
    const forged = await browser.postForm('/api/auth/cli/device', {
      user_code: device.user_code,
      csrf_token: 'guess',
      decision: 'approve',
    });
    expect(forged.status).toBe(403);
    const crossSite = await fetch(`${server.url}/api/auth/cli/device`, {
      method: 'POST',
      headers: {
        cookie: browser.cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        user_code: device.user_code,
        csrf_token: hiddenField(page, 'csrf_token'),
        decision: 'approve',
      }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect((await pollToken(server, device.device_code)).body.error).toBe('authorization_pending');
  });
});

describe('refresh tokens', () => {
  it('rotate on every use, and a spent one revokes the whole sign-in and its keys', async () => {
    const first = await signInDevice();
    const second = await refresh(server, first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.virtual_key).not.toBe(first.virtual_key);
    expect((await chat(second.body.virtual_key)).status).toBe(200);

    // The first refresh token again: someone copied it. Everything of this sign-in dies.
    const reused = await refresh(server, first.refresh_token);
    expect(reused.status).toBe(401);
    expect(reused.body.error).toBe('invalid_grant');
    expect((await refresh(server, second.body.refresh_token)).status).toBe(401);
    for (const key of [first.virtual_key, second.body.virtual_key]) {
      const refused = await chat(key);
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('key_revoked');
    }
  });

  it('answers a made-up refresh token with 401 invalid_grant', async () => {
    expect(await refresh(server, 'ghr_nothing')).toMatchObject({
      status: 401,
      body: { error: 'invalid_grant' },
    });
  });
});

describe('minting, who-am-I and sign-out', () => {
  it('mints a fresh key for the signed-in device and says who it is', async () => {
    const tokens = await signInDevice('mint-laptop');
    const minted = await fetch(`${server.url}/api/auth/cli/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(minted.status).toBe(200);
    const fresh = await minted.json();
    expect(fresh.virtual_key).toMatch(/^gth_/);
    expect(fresh.virtual_key).not.toBe(tokens.virtual_key);
    expect((await chat(fresh.virtual_key)).status).toBe(200);

    const whoami = await (
      await fetch(`${server.url}/api/auth/cli/whoami`, {
        headers: { authorization: `Bearer ${fresh.virtual_key}` },
      })
    ).json();
    expect(whoami).toMatchObject({
      user: { id: browser.user.id, email: 'dana@example.com' },
      organization: { id: 'org_default', name: 'Default organisation' },
      key: { personal: true, expiresAt: fresh.virtual_key_expires_at },
    });
    const projects = await server.admin('GET', '/projects');
    expect(projects.data.find((project: { id: string }) => project.id === whoami.project.id)).toMatchObject({
      isPersonal: true,
    });
  });

  it('signs one device out: its refresh token and keys stop working, other devices keep theirs', async () => {
    const leaving = await signInDevice('old-laptop');
    const staying = await signInDevice('new-laptop');
    const revoked = await oauthPost(server, '/api/auth/cli/revoke', {
      token: leaving.refresh_token,
      client_id: 'gatehouse-cli',
    });
    expect(revoked.status).toBe(200);
    expect((await chat(leaving.access_token)).status).toBe(401);
    expect((await refresh(server, leaving.refresh_token)).status).toBe(401);
    expect((await chat(staying.access_token)).status).toBe(200);
  });

  it("reports the person's own budgets and the health of their providers", async () => {
    const tokens = await signInDevice('status-laptop');
    const budget = await server.admin('POST', '/budgets', {
      scope: 'user',
      scopeId: browser.user.id,
      limitUsd: 25,
      window: 'month',
      action: 'block',
    });
    const status = await fetch(`${server.url}/api/auth/cli/status`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(status.status).toBe(200);
    const body = await status.json();
    const mine = body.budgets.find((row: { id: string }) => row.id === budget.id);
    expect(mine).toMatchObject({ scope: 'user', window: 'month', limitUsd: 25 });
    expect(mine.spentUsd).toBeGreaterThan(0); // earlier calls in this file were this person's
    expect(mine.remainingUsd).toBeCloseTo(25 - mine.spentUsd, 6);
    expect(Date.parse(mine.resetsAt)).toBeGreaterThan(Date.now());
    expect(body.providers).toEqual([
      expect.objectContaining({ name: 'mock-openai', status: 'available' }),
      expect.objectContaining({ name: 'mock-anthropic', status: 'available' }),
    ]);
    expect((await fetch(`${server.url}/api/auth/cli/status`)).status).toBe(401);
    await server.admin('DELETE', `/budgets/${budget.id}`);
  });

  it('gives keys the lifetime the organisation chose', async () => {
    await server.admin('PATCH', '/organization', { personalKeyTtlSeconds: 3_600 });
    try {
      const tokens = await signInDevice('short-laptop');
      expect(tokens.expires_in).toBeLessThanOrEqual(3_600);
      expect(tokens.expires_in).toBeGreaterThan(3_500);
    } finally {
      await server.admin('PATCH', '/organization', { personalKeyTtlSeconds: 86_400 });
    }
  });
});

describe('loopback sign-in with PKCE (RFC 8252)', () => {
  const redirectUri = 'http://127.0.0.1:53682/callback';
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorizePath = (extra: Record<string, string> = {}) =>
    `/api/auth/cli/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'gatehouse-cli',
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'xyz',
      device_name: 'desk',
      ...extra,
    })}`;

  async function approve(): Promise<URL> {
    const answer = await decideLoopback(browser, authorizePath(), 'approve');
    expect(answer.status).toBe(303);
    return new URL(answer.headers.get('location') as string);
  }

  it('returns a code to the loopback address that only the PKCE verifier redeems, once', async () => {
    const back = await approve();
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('xyz');
    expect(back.searchParams.get('iss')).toBe(server.url);
    const code = back.searchParams.get('code') as string;

    const exchange = (codeVerifier: string) =>
      oauthPost(server, '/api/auth/cli/token', {
        grant_type: 'authorization_code',
        code,
        code_verifier: codeVerifier,
        redirect_uri: redirectUri,
        client_id: 'gatehouse-cli',
      });
    // A wrong verifier burns the code: whoever intercepted it cannot try again.
    expect((await exchange(randomBytes(32).toString('base64url'))).body.error).toBe('invalid_grant');
    const second = await approve();
    const good = await oauthPost(server, '/api/auth/cli/token', {
      grant_type: 'authorization_code',
      code: second.searchParams.get('code') as string,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: 'gatehouse-cli',
    });
    expect(good.status).toBe(200);
    expect((await chat(good.body.virtual_key)).status).toBe(200);
  });

  it('refuses non-loopback redirects, and sends PKCE-less requests back with invalid_request', async () => {
    const remote = await browser.get(authorizePath({ redirect_uri: 'https://evil.example/cb' }));
    expect(remote.status).toBe(400);
    const noPkce = await browser.get(authorizePath({ code_challenge_method: 'plain' }));
    expect(noPkce.status).toBe(303);
    expect(new URL(noPkce.headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_request',
    );
  });

  it('sends the CLI access_denied when the person declines', async () => {
    const answer = await decideLoopback(browser, authorizePath(), 'deny');
    expect(new URL(answer.headers.get('location') as string).searchParams.get('error')).toBe('access_denied');
  });
});
