import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A real OpenID Connect provider (panva's oidc-provider v9) in a child process on 127.0.0.1, for
 * end-to-end SSO tests of the relying party. See ./oidc-provider/main.mjs for how it is configured.
 */

export interface OidcProviderClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  /** Defaults to client_secret_basic (oidc-provider's default). */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none' | (string & {});
}

export interface OidcProviderAccount {
  email: string;
  email_verified: boolean;
  name: string;
  /** Sent as the `groups` claim. */
  groups?: string[];
}

export interface OidcProviderConfig {
  clients: OidcProviderClient[];
  /** Keyed by account id, which is also the `sub` claim and what `signIn` types into the login form. */
  accounts: Record<string, OidcProviderAccount>;
}

export interface OidcProvider {
  /** e.g. http://127.0.0.1:PORT (no trailing slash); discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  close(): Promise<void>;
  /**
   * Signs `accountId` in exactly as a browser would, starting from a fresh cookie jar: requests the
   * authorization URL, submits the login form and then the consent form if the provider shows one,
   * following redirects, and returns the first redirect that leaves the provider (the client's
   * callback URL with `code`, `state` and `iss`, or with `error`). That URL is not requested.
   */
  signIn(authorizationUrl: string, accountId: string): Promise<string>;
  /** Changes an account's groups at the provider, as its administrator would. */
  setGroups(accountId: string, groups: string[]): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./oidc-provider/main.mjs', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const MAX_REQUESTS = 12;

export async function startOidcProvider(config: OidcProviderConfig): Promise<OidcProvider> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: '0',
      OIDC_PROVIDER_CONFIG: JSON.stringify(config),
      // The child exits when this pipe closes, i.e. when this process dies, however it dies.
      OIDC_PROVIDER_EXIT_ON_STDIN_END: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let issuer: string;
  try {
    issuer = await waitForIssuer(child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw error;
  }

  return {
    issuer,
    async close() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
    setGroups(accountId, groups) {
      return new Promise((resolve, reject) => {
        const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
        const timer = setTimeout(() => {
          lines.close();
          child.stdout?.resume();
          reject(new Error(`oidc-provider did not confirm the groups of ${accountId}`));
        }, 5_000);
        lines.on('line', (line) => {
          if (line !== JSON.stringify({ updated: accountId })) return;
          clearTimeout(timer);
          lines.close();
          // Closing the reader pauses the pipe; keep draining it so the child never blocks.
          child.stdout?.resume();
          resolve();
        });
        child.stdin?.write(`${JSON.stringify({ account: accountId, groups })}\n`);
      });
    },
    signIn(authorizationUrl, accountId) {
      // The provider answers an unknown account with a bare 500 page; say what is wrong instead.
      if (!Object.hasOwn(config.accounts, accountId)) {
        return Promise.reject(new Error(`no account ${accountId} in this provider's config`));
      }
      return signIn(issuer, authorizationUrl, accountId);
    },
  };
}

function waitForIssuer(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const fail = (message: string) => {
      cleanUp();
      reject(new Error(`oidc-provider did not start: ${message}\n${stderr()}`));
    };
    const timer = setTimeout(() => fail(`no issuer line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited (code ${code}, signal ${signal})`);
    const onError = (error: Error) => fail(error.message);
    const onLine = (line: string) => {
      if (!line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as { issuer?: unknown };
        if (typeof parsed.issuer !== 'string') return;
        cleanUp();
        resolve(parsed.issuer);
      } catch {
        // Not our line.
      }
    };
    function cleanUp() {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      lines.off('line', onLine);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
    }
    child.once('exit', onExit);
    child.once('error', onError);
    lines.on('line', onLine);
  });
}

// --- The browser ------------------------------------------------------------------------------

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** Just enough of a cookie jar for one host: names scoped by path, deletions honoured. */
class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  store(requestUrl: URL, setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      let path = defaultPath(requestUrl);
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (attributeValue.startsWith('/')) path = attributeValue;
            break;
          case 'expires':
            if (Date.parse(attributeValue) <= Date.now()) expired = true;
            break;
          case 'max-age':
            if (Number(attributeValue) <= 0) expired = true;
            break;
        }
      }
      const key = `${path}\n${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string | undefined {
    const matching = [...this.cookies.values()]
      .filter((cookie) => pathMatches(url.pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|#39);/gi, (_match, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower] ?? '';
  });
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!match) return undefined;
  return decodeHtml(match[1] ?? match[2] ?? match[3] ?? '');
}

interface Form {
  action: URL;
  method: string;
  fields: URLSearchParams;
}

/** The page's forms, with their hidden fields already filled in. */
function parseForms(html: string, pageUrl: URL): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, formAttributes = '', body = ''] = match;
    const tag = `<form ${formAttributes}>`;
    const fields = new URLSearchParams();
    for (const input of body.matchAll(/<input\b[^>]*>/gi)) {
      const name = attribute(input[0], 'name');
      if (name === undefined) continue;
      if ((attribute(input[0], 'type') ?? 'text').toLowerCase() === 'hidden') {
        fields.append(name, attribute(input[0], 'value') ?? '');
      }
    }
    forms.push({
      action: new URL(attribute(tag, 'action') ?? pageUrl.href, pageUrl),
      method: (attribute(tag, 'method') ?? 'get').toUpperCase(),
      fields,
    });
  }
  return forms;
}

async function signIn(issuer: string, authorizationUrl: string, accountId: string): Promise<string> {
  const issuerOrigin = new URL(issuer).origin;
  const jar = new CookieJar();
  const trail: string[] = [];
  let url = new URL(authorizationUrl);
  let method = 'GET';
  let body: URLSearchParams | undefined;

  if (url.origin !== issuerOrigin) throw new Error(`${authorizationUrl} is not on the provider (${issuer})`);
  for (let requests = 0; ; requests++) {
    if (url.origin !== issuerOrigin) return url.href;
    if (requests === MAX_REQUESTS) {
      throw new Error(
        `sign-in did not leave the provider within ${MAX_REQUESTS} requests: ${trail.join(' → ')}`,
      );
    }
    trail.push(`${method} ${url.pathname}`);
    const cookie = jar.header(url);
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(cookie === undefined ? {} : { cookie }),
        ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: body?.toString(),
    });
    jar.store(url, response.headers.getSetCookie());
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }

    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`${method} ${url.href} → ${response.status}: ${html.slice(0, 2_000)}`);
    }
    // devInteractions pages: a login form or a consent form, each with a hidden `prompt` field.
    const form = parseForms(html, url).find((candidate) => candidate.fields.has('prompt'));
    if (form === undefined) {
      throw new Error(
        `no interaction form at ${url.href} (after ${trail.join(' → ')}): ${html.slice(0, 2_000)}`,
      );
    }
    const prompt = form.fields.get('prompt');
    if (prompt === 'login') {
      form.fields.set('login', accountId);
      form.fields.set('password', 'any-password');
    } else if (prompt !== 'consent') {
      throw new Error(`unexpected interaction prompt ${prompt} at ${url.href}`);
    }
    url = form.action;
    method = form.method;
    body = form.fields;
    if (method !== 'POST') throw new Error(`the ${prompt} form at ${url.href} does not POST`);
  }
}
