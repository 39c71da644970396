import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, signedInBrowser } from './support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/**
 * Claude Code's built-in gateway sign-in (`/login` with `forceLoginMethod: "gateway"`), driven
 * with exactly the requests Claude Code 2.1.197 sends (captured from the real binary against a
 * logging server): its axios calls carry no client_id, the device authorization body is empty,
 * inference goes to `{gateway}/v1/messages?beta=true` with the access token as bearer, managed
 * settings are polled with the checksum it computes as If-None-Match, and a refresh answered
 * `invalid_grant` sends the person back to /login.
 */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let browser: Browser;

const AXIOS = { accept: 'application/json, text/plain, */*', 'user-agent': 'axios/1.15.2' };
const FORM = { ...AXIOS, 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  // Sign-in is refused where no identity provider is set up; these tests sign people in
  // directly (signedInBrowser), so the development provider stands in for one.
  gateway = await startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'dev@example.com' }, { addressable: true });
  server = gateway.server;
  browser = await signedInBrowser(server, 'claude.user@example.com');
});
afterAll(() => gateway?.close());

/** `mb.get(`${url}/.well-known/oauth-authorization-server`)`: the gateway URL, path and all. */
async function discover(gatewayUrl: string) {
  const response = await fetch(`${gatewayUrl}/.well-known/oauth-authorization-server`, { headers: AXIOS });
  expect(response.status).toBe(200);
  const metadata = await response.json();
  // Claude Code ignores advertised endpoints that are not same-origin with the gateway URL.
  expect(new URL(metadata.device_authorization_endpoint).origin).toBe(new URL(gatewayUrl).origin);
  expect(new URL(metadata.token_endpoint).origin).toBe(new URL(gatewayUrl).origin);
  return metadata as { device_authorization_endpoint: string; token_endpoint: string };
}

async function tokenRequest(tokenEndpoint: string, body: string) {
  const response = await fetch(tokenEndpoint, { method: 'POST', headers: FORM, body });
  return { status: response.status, body: await response.json() };
}

/** The whole sign-in as Claude Code runs it, the person approving in their browser. */
async function claudeCodeLogin(gatewayUrl: string) {
  const metadata = await discover(gatewayUrl);
  const authorization = await fetch(metadata.device_authorization_endpoint, {
    method: 'POST',
    headers: { ...FORM, 'content-length': '0' },
    body: '',
  });
  expect(authorization.status).toBe(200);
  const device = await authorization.json();
  for (const field of ['device_code', 'user_code', 'verification_uri'])
    expect(typeof device[field]).toBe('string');
  expect(typeof device.expires_in).toBe('number');
  const poll = () =>
    tokenRequest(
      metadata.token_endpoint,
      `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:device_code')}&device_code=${device.device_code}`,
    );
  expect(await poll()).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });

  // Claude Code opens verification_uri_complete; the person sees who is asking and approves.
  const complete = new URL(device.verification_uri_complete);
  const page = await browser.get(complete.pathname + complete.search);
  const html = await page.text();
  expect(html).toContain('Claude Code');
  expect(html).toContain(device.user_code);
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] as string;
  const userCode = /name="user_code" value="([^"]+)"/.exec(html)?.[1] as string;
  expect(
    (
      await browser.postForm('/api/auth/cli/device', {
        user_code: userCode,
        csrf_token: csrf,
        decision: 'approve',
      })
    ).status,
  ).toBe(200);

  const granted = await poll();
  expect(granted.status).toBe(200);
  // Claude Code's schema: access_token and expires_in required, refresh_token optional.
  expect(typeof granted.body.access_token).toBe('string');
  expect(typeof granted.body.expires_in).toBe('number');
  expect(typeof granted.body.refresh_token).toBe('string');
  return {
    metadata,
    tokens: granted.body as { access_token: string; refresh_token: string; expires_in: number },
  };
}

/** Claude Code's inference request: the Anthropic SDK's headers, streamed, `?beta=true`. */
function messages(gatewayUrl: string, token: string) {
  return fetch(`${gatewayUrl}/v1/messages?beta=true`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      'content-type': 'application/json',
      'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)',
      'x-app': 'cli',
      'x-claude-code-session-id': '6f1c9a7e-0d7b-4c55-9a53-3f0c1a1f4b2e',
      'x-stainless-lang': 'js',
      'x-stainless-retry-count': '0',
    },
    body: JSON.stringify({
      model: 'claude-sonnet-4-6',
      max_tokens: 1024,
      stream: true,
      system: [{ type: 'text', text: 'You are Claude Code.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'say hi' }] }],
    }),
  });
}

describe("Claude Code's own gateway sign-in", () => {
  it('signs in by device flow with no client id, then calls the gateway as the person', async () => {
    const { tokens } = await claudeCodeLogin(server.url);

    const streamed = await messages(server.url, tokens.access_token);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const events = await streamed.text();
    expect(events).toContain('event: message_start');
    expect(events).toContain('event: message_stop');

    const counted = await fetch(`${server.url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'say hi' }] }),
    });
    expect(counted.status).toBe(200);
    expect((await counted.json()).input_tokens).toBeGreaterThan(0);

    await server.flushUsage();
    const usage = await server.admin('GET', '/usage?groupBy=principal');
    // Both calls, the message and the token count, are the person's.
    expect(usage.rows.find((row: { group: string }) => row.group === browser.user.id)).toMatchObject({
      requests: 2,
    });
  });

  it('finds the metadata and the model API when the gateway URL ends in /api', async () => {
    const { tokens } = await claudeCodeLogin(`${server.url}/api`);
    expect((await messages(`${server.url}/api`, tokens.access_token)).status).toBe(200);
  });

  it('polls managed settings: 404 without a policy, then the envelope, then 304 on its own checksum', async () => {
    const { tokens } = await claudeCodeLogin(server.url);
    const poll = (ifNoneMatch?: string) =>
      fetch(`${server.url}/managed/settings`, {
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          'user-agent': 'claude-code/2.1.197',
          'cache-control': 'no-cache',
          pragma: 'no-cache',
          ...(ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {}),
        },
      });
    await server.admin('DELETE', '/claude-code-settings').catch(() => undefined);
    expect((await poll()).status).toBe(404);

    const settings = { permissions: { deny: ['WebFetch'] }, env: { CLAUDE_CODE_ENABLE_TELEMETRY: '1' } };
    await server.admin('PUT', '/claude-code-settings', { settings });
    const first = await poll();
    expect(first.status).toBe(200);
    const envelope = await first.json();
    expect(envelope.settings).toEqual(settings);
    // What Claude Code computes over its cached copy: sha256 of the JSON with keys sorted.
    const sorted = JSON.stringify({ env: settings.env, permissions: settings.permissions });
    const ownChecksum = `sha256:${createHash('sha256').update(sorted).digest('hex')}`;
    expect(envelope.checksum).toBe(ownChecksum);
    expect((await poll(`"${ownChecksum}"`)).status).toBe(304);

    const telemetry = await fetch(`${server.url}/v1/logs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        'user-agent': 'OTel-OTLP-Exporter-JavaScript/0.208.0',
      },
      body: JSON.stringify({ resourceLogs: [] }),
    });
    expect(telemetry.status).toBe(200);
  });

  it('refreshes with a bare refresh grant, and is sent back to /login once access is revoked', async () => {
    const { metadata, tokens } = await claudeCodeLogin(server.url);
    const refreshed = await tokenRequest(
      metadata.token_endpoint,
      `grant_type=refresh_token&refresh_token=${encodeURIComponent(tokens.refresh_token)}`,
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await messages(server.url, refreshed.body.access_token)).status).toBe(200);

    // The administrator off-boards the person: the next refresh is Claude Code's cue to re-login.
    await server.admin('POST', `/users/${browser.user.id}/revoke-access`);
    const refused = await tokenRequest(
      metadata.token_endpoint,
      `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshed.body.refresh_token)}`,
    );
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });
    const rejected = await messages(server.url, refreshed.body.access_token);
    expect(rejected.status).toBe(401);
    expect(await rejected.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});
