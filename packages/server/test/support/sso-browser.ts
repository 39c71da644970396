import { expect } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: API answers are read as the test needs them.
type Json = any;

import type { OidcProvider } from './oidc-provider.js';

/** Redirects followed per visit; a sign-in takes five (page → login → provider → callback → page). */
const MAX_STEPS = 10;

/**
 * A browser for the gateway: its own cookies, redirects followed by hand. When a redirect leads
 * to the identity provider, the person signs in there as `accountId`.
 */
export class SsoBrowser {
  readonly #cookies = new Map<string, string>();
  /** Every Set-Cookie the gateway sent, as sent. */
  readonly setCookies: string[] = [];

  constructor(
    readonly gatewayUrl: string,
    readonly identityProvider: OidcProvider,
    readonly accountId: string,
  ) {}

  get cookie(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string): Promise<Response> {
    const cookie = this.cookie;
    const response = await fetch(new URL(url, this.gatewayUrl), {
      redirect: 'manual',
      headers: { accept: 'text/html', ...(cookie === undefined ? {} : { cookie }) },
    });
    this.#store(response);
    return response;
  }

  async postForm(path: string, fields: Record<string, string>): Promise<Response> {
    const cookie = this.cookie;
    const response = await fetch(new URL(path, this.gatewayUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(cookie === undefined ? {} : { cookie }),
      },
      body: new URLSearchParams(fields).toString(),
    });
    this.#store(response);
    return response;
  }

  /** A JSON API call as the app's own pages make it: the session cookie, and any headers given. */
  async api(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Json }> {
    const cookie = this.cookie;
    const response = await fetch(new URL(path, this.gatewayUrl), {
      method,
      headers: {
        ...(cookie === undefined ? {} : { cookie }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** Opens `url` and follows redirects, through the provider's sign-in, to the page that stays. */
  async visit(url: string): Promise<{ response: Response; trail: string[] }> {
    const trail: string[] = [];
    let next = new URL(url, this.gatewayUrl);
    for (let step = 0; step < MAX_STEPS; step++) {
      if (next.origin === new URL(this.identityProvider.issuer).origin) {
        trail.push(`provider ${next.pathname}`);
        next = new URL(await this.identityProvider.signIn(next.href, this.accountId));
        continue;
      }
      if (next.origin !== this.gatewayUrl) throw new Error(`redirected off the gateway to ${next.origin}`);
      trail.push(next.pathname);
      const response = await this.get(next.href);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return { response, trail };
      await response.body?.cancel();
      next = new URL(location, next);
    }
    throw new Error(`no page within ${MAX_STEPS} redirects: ${trail.join(' → ')}`);
  }

  /** Starts a sign-in and stops at the provider's answer: the callback URL, not yet opened. */
  async callbackUrl(returnTo = '/'): Promise<URL> {
    const login = await this.get(`/api/auth/sso/login?return_to=${encodeURIComponent(returnTo)}`);
    expect(login.status).toBe(303);
    const authorization = login.headers.get('location') as string;
    return new URL(await this.identityProvider.signIn(authorization, this.accountId));
  }

  #store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      this.setCookies.push(header);
      const [pair = ''] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (value === '' || /;\s*max-age=0/i.test(header)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}
