import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The web app (`packages/web`, built by Vite into static files) served at `/`: its hashed assets
 * under `/assets/` (cached for a year: a new build has new names; brotli or gzip as the client
 * accepts, compressed at build time), and `index.html`, never
 * cached, for every browser navigation no route answers, so the app's own routes (`/me`,
 * `/governance`…) load it. API callers keep their JSON 404s: only a GET that accepts text/html
 * and is not under an API prefix gets the page.
 */

/** Where `npm run build` puts the app in this repository (the same from `src/` and `dist/`). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** The built app, or undefined when it was not built (the server then has no UI, as before). */
export function findWebRoot(root: string = DEFAULT_WEB_ROOT): string | undefined {
  return existsSync(join(root, 'index.html')) ? root : undefined;
}

/** Paths that belong to the APIs: an unknown one there is a JSON 404 in the caller's dialect. */
const API_PREFIXES = ['/api', '/v1', '/v1beta', '/scim', '/.well-known', '/managed', '/healthz', '/readyz'];

/** A browser opening a page of the app, not an API call. */
export function isAppNavigation(method: string, path: string, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET') return false;
  if (API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return false;
  if (path.startsWith('/assets/')) return false;
  return (headers.accept ?? '').split(',').some((type) => type.trim().startsWith('text/html'));
}

const NONCE_PLACEHOLDER = '__CSP_NONCE__';

/**
 * Only this origin's scripts, styles that carry this response's nonce (the component library
 * injects its theme as a style element), API calls to this origin, and no framing at all.
 */
function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const commonHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

export interface WebApp {
  /** Answers a navigation with the app's page. */
  sendPage(reply: FastifyReply): FastifyReply;
}

export async function registerWebApp(app: FastifyInstance, root: string): Promise<WebApp> {
  const template = readFileSync(join(root, 'index.html'), 'utf8');
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    wildcard: true,
    // The build writes .br and .gz beside each asset; a client that accepts one gets it.
    preCompressed: true,
    decorateReply: false,
    schemaHide: true,
    cacheControl: true,
    immutable: true,
    maxAge: 365 * 24 * 3600 * 1000,
    setHeaders(response) {
      for (const [name, value] of Object.entries(commonHeaders)) response.setHeader(name, value);
      // Caches must keep the brotli, gzip and plain answers apart.
      response.setHeader('vary', 'accept-encoding');
    },
  });
  return {
    sendPage(reply) {
      const nonce = randomBytes(16).toString('base64');
      return reply
        .code(200)
        .headers({
          ...commonHeaders,
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
          'content-security-policy': contentSecurityPolicy(nonce),
        })
        .send(template.replaceAll(NONCE_PLACEHOLDER, nonce));
    },
  };
}
