/**
 * Just enough of a browser for sign-in pages on one origin: a cookie jar (names scoped by path,
 * deletions honoured), redirects followed by hand so every hop's cookies are kept, and forms
 * posted as `application/x-www-form-urlencoded`.
 */

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Page {
  url: URL;
  status: number;
  html: string;
}

const MAX_REDIRECTS = 15;

export class CookieBrowser {
  readonly #cookies = new Map<string, Cookie>();
  /** Every request made, `METHOD path`, for failure messages. */
  readonly trail: string[] = [];

  /** GETs `url` and follows redirects to the page they end on. */
  visit(url: string | URL): Promise<Page> {
    return this.#go(new URL(url), 'GET', undefined);
  }

  /** POSTs a form to `action` (relative to `page`) and follows redirects. */
  submit(page: Page, action: string, fields: Record<string, string>): Promise<Page> {
    return this.#go(new URL(action, page.url), 'POST', new URLSearchParams(fields));
  }

  async #go(start: URL, firstMethod: string, firstBody: URLSearchParams | undefined): Promise<Page> {
    let url = start;
    let method = firstMethod;
    let body = firstBody;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      this.trail.push(`${method} ${url.pathname}`);
      const cookie = this.#header(url);
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
      this.#store(url, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        url = new URL(location, url);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url, status: response.status, html: await response.text() };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects: ${this.trail.join(' → ')}`);
  }

  #store(requestUrl: URL, setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      let path = requestUrl.pathname.slice(0, Math.max(1, requestUrl.pathname.lastIndexOf('/')));
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        const lower = key.trim().toLowerCase();
        if (lower === 'path' && attributeValue.startsWith('/')) path = attributeValue;
        if (lower === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
        if (lower === 'max-age' && Number(attributeValue) <= 0) expired = true;
      }
      const key = `${path}\n${name}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  #header(url: URL): string | undefined {
    const matching = [...this.#cookies.values()]
      .filter((cookie) => pathMatches(url.pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** The value of a hidden form field on a page. */
export function hiddenValue(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (match?.[1] === undefined)
    throw new Error(`no hidden field ${name} on the page: ${html.slice(0, 1_000)}`);
  return match[1].replaceAll('&amp;', '&');
}
