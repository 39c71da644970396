import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcProvider, startOidcProvider } from './support/oidc-provider.js';

const CLIENT_ID = 'gatehouse-test';
const CLIENT_SECRET = 'gatehouse-test-secret';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

let provider: OidcProvider;

beforeAll(async () => {
  provider = await startOidcProvider({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] }],
    accounts: { alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Example' } },
  });
});

afterAll(async () => {
  await provider?.close();
});

describe('oidc-provider test support', () => {
  it('signs a user in through the real authorization code flow with PKCE', async () => {
    const discovery = (await (
      await fetch(`${provider.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(discovery.issuer).toBe(provider.issuer);

    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const authorizationUrl = new URL(discovery.authorization_endpoint as string);
    authorizationUrl.search = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email profile',
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();

    const callback = new URL(await provider.signIn(authorizationUrl.href, 'alice'));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(provider.issuer);
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();

    const tokenResponse = await fetch(discovery.token_endpoint as string, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code as string,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    });
    const tokens = (await tokenResponse.json()) as Record<string, string>;
    expect(tokenResponse.status, JSON.stringify(tokens)).toBe(200);
    const idToken = decodeJwt(tokens.id_token as string);
    expect(idToken).toMatchObject({
      iss: provider.issuer,
      sub: 'alice',
      aud: CLIENT_ID,
      nonce,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Example',
    });

    const userinfo = await fetch(discovery.userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({ sub: 'alice', email: 'alice@example.com' });
  });

  it('refuses an authorization request without PKCE', async () => {
    const authorizationUrl = new URL(`${provider.issuer}/auth`);
    authorizationUrl.search = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid',
      state: 'no-pkce',
    }).toString();
    const callback = new URL(await provider.signIn(authorizationUrl.href, 'alice'));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('state')).toBe('no-pkce');
  });
});
