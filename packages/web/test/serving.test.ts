import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../../server/test/support/harness.js';

/**
 * `gatehouse serve` serves the built app at `/`: its page for browser navigations (no-cache,
 * a CSP of its own origin only, no framing), hashed assets cached for good, and the same JSON
 * 404s as before for everything an API client calls.
 */
describe('the web app as the server serves it', () => {
  let server: TestGatehouse;
  beforeAll(async () => {
    server = await startTestGatehouse();
  });
  afterAll(() => server.close());

  const get = (path: string, accept: string) => fetch(`${server.url}${path}`, { headers: { accept } });
  const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it('answers a browser navigation anywhere in the app with its page, never cached, under a strict CSP', async () => {
    for (const path of ['/', '/me', '/governance/anything?x=1']) {
      const page = await get(path, browserAccept);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await page.text();
      const nonce = /style-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(html).toContain(`<meta name="csp-nonce" content="${nonce}"`);
      expect(html).not.toContain('__CSP_NONCE__');
    }
    const first = (await get('/', browserAccept)).headers.get('content-security-policy');
    const second = (await get('/', browserAccept)).headers.get('content-security-policy');
    expect(first).not.toBe(second);
  });

  it('serves the hashed assets for a year, and a missing one is a 404', async () => {
    const html = await (await get('/', browserAccept)).text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    const asset = await get(script ?? '', '*/*');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await get('/assets/missing-0000.js', '*/*')).status).toBe(404);
    const brotli = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(brotli.headers.get('content-encoding')).toBe('br');
    expect(brotli.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(brotli.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await brotli.text()).length).toBe((await asset.text()).length);
  });

  it('keeps JSON 404s for API paths, even when the caller accepts HTML, and for non-browser callers', async () => {
    for (const path of ['/api/nope', '/v1/nope', '/v1beta/nope', '/scim/v2/Nope', '/.well-known/nope']) {
      const answer = await get(path, browserAccept);
      // SCIM asks for its bearer first (401); the others are unknown routes (404). JSON either way.
      expect([401, 404], path).toContain(answer.status);
      expect(answer.headers.get('content-type'), path).toMatch(/^application\/(scim\+)?json/);
    }
    const json = await get('/me', 'application/json');
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /me' } });
    const posted = await fetch(`${server.url}/me`, { method: 'POST', headers: { accept: browserAccept } });
    expect(posted.status).toBe(404);
    expect(posted.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
