/**
 * The web app's weight and speed on loopback: the size of every built asset (raw, gzip, brotli;
 * the first screen's set apart from what loads on demand), and how long an owner's home page
 * takes to become usable in Debian's Chromium, headless, against a real `gatehouse serve` on
 * embedded PGlite with the development IdP.
 *
 * "Usable" is measured in the page: from the navigation's start until the governance heading is
 * on screen and no loading state is left (every query answered and rendered), with the time to
 * DOMContentLoaded and to the first heading beside it. Each of RUNS loads is a fresh browser
 * context (an empty HTTP cache, the session cookie carried over), after WARMUPS warm-ups.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startService } from './processes.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(REPOSITORY_ROOT, 'packages/web/dist');
const RESULTS_FILE = fileURLToPath(new URL('./results/web-latest.json', import.meta.url));
const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
const OWNER = 'owner@example.com';
const RUNS = 15;
const WARMUPS = 3;

interface AssetSize {
  file: string;
  bytes: number;
  gzipBytes: number;
  brotliBytes: number;
}

/** Every built asset's size; the files index.html loads itself are the first screen's. */
function assetSizes(): { firstScreen: AssetSize[]; onDemand: AssetSize[] } {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const referenced = new Set(
    [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)].map((match) => match[1]),
  );
  const sizes = readdirSync(join(DIST, 'assets'))
    .filter((name) => /\.(js|css)$/.test(name))
    .map((name): AssetSize => {
      const body = readFileSync(join(DIST, 'assets', name));
      return {
        file: `assets/${name}`,
        bytes: statSync(join(DIST, 'assets', name)).size,
        gzipBytes: gzipSync(body, { level: 9 }).length,
        brotliBytes: brotliCompressSync(body).length,
      };
    });
  return {
    firstScreen: sizes.filter((size) => referenced.has(size.file)),
    onDemand: sizes.filter((size) => !referenced.has(size.file)),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** An expression for the page: the time (ms since navigation) of the first frame where `condition` holds. */
function whenInPage(condition: string): string {
  return `new Promise((resolve) => {
    const check = () => (${condition} ? resolve(performance.now()) : requestAnimationFrame(check));
    check();
  })`;
}

const percentile = (sorted: number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0;

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { medianMs: Math.round(percentile(sorted, 0.5)), p90Ms: Math.round(percentile(sorted, 0.9)) };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const total = (sizes: AssetSize[], field: keyof Omit<AssetSize, 'file'>) =>
  sizes.reduce((sum, size) => sum + size[field], 0);

async function main(): Promise<void> {
  const sizes = assetSizes();
  const dataDirectory = await mkdtemp(join(tmpdir(), 'gatehouse-web-bench-'));
  const adminToken = randomBytes(24).toString('hex');
  const port = await freePort();
  const gateway = await startService({
    name: 'gateway',
    args: ['packages/cli/dist/bin.js', 'serve'],
    workingDirectory: REPOSITORY_ROOT,
    environment: {
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEHOUSE_DATA_DIR: dataDirectory,
      GATEHOUSE_ADMIN_TOKEN: adminToken,
      GATEHOUSE_DEV_SSO: OWNER,
      GATEHOUSE_LOG_LEVEL: 'warn',
    },
    listeningLine: /Gatehouse is listening on (http:\/\/\S+)/,
    startTimeoutMs: 60_000,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${gateway.url}/api/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (response) => {
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return response.json() as Promise<{ data: { id: string }[] }>;
      });

    // Sign in once through the development IdP's picker; the owner role makes governance the home.
    const signInContext = await browser.newContext();
    const signInPage = await signInContext.newPage();
    await signInPage.goto(`${gateway.url}/`);
    await signInPage.getByRole('link', { name: 'Sign in with SSO' }).click();
    await signInPage.getByRole('button', { name: OWNER }).click();
    await signInPage.getByTestId('signed-in-as').waitFor();
    const { data: people } = await admin('GET', `/users?email=${encodeURIComponent(OWNER)}`);
    await admin('POST', '/role-bindings', { role: 'owner', subject: { kind: 'user', id: people[0]?.id } });
    const storageState = await signInContext.storageState();
    await signInContext.close();

    const loads: { domContentLoadedMs: number; firstHeadingMs: number; usableMs: number }[] = [];
    for (let run = 0; run < WARMUPS + RUNS; run++) {
      const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${gateway.url}/`);
      // Strings, not functions: tsx wraps functions in a helper that does not exist in the page.
      const firstHeadingMs = await page.evaluate<number>(whenInPage("document.querySelector('h1')"));
      await page.getByRole('heading', { level: 1, name: 'Governance' }).waitFor();
      const usableMs = await page.evaluate<number>(
        whenInPage('!document.querySelector(\'[role="status"][aria-live]\')'),
      );
      const domContentLoadedMs = await page.evaluate<number>(
        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd",
      );
      if (run >= WARMUPS) loads.push({ domContentLoadedMs, firstHeadingMs, usableMs });
      await context.close();
    }

    const results = {
      measuredAt: new Date().toISOString(),
      runs: RUNS,
      firstScreen: {
        bytes: total(sizes.firstScreen, 'bytes'),
        gzipBytes: total(sizes.firstScreen, 'gzipBytes'),
        brotliBytes: total(sizes.firstScreen, 'brotliBytes'),
        files: sizes.firstScreen,
      },
      onDemand: sizes.onDemand,
      homePage: {
        domContentLoaded: summary(loads.map((load) => load.domContentLoadedMs)),
        firstHeading: summary(loads.map((load) => load.firstHeadingMs)),
        usable: summary(loads.map((load) => load.usableMs)),
      },
    };
    await mkdir(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);

    console.log('Web app bundle (first screen = what index.html loads):');
    for (const size of [...sizes.firstScreen, ...sizes.onDemand]) {
      const where = sizes.firstScreen.includes(size) ? 'first screen' : 'on demand';
      console.log(
        `  ${size.file.padEnd(36)} ${kib(size.bytes).padStart(11)}  gzip ${kib(size.gzipBytes).padStart(10)}  br ${kib(size.brotliBytes).padStart(10)}  ${where}`,
      );
    }
    console.log(
      `  first screen total: ${kib(results.firstScreen.bytes)}, gzip ${kib(results.firstScreen.gzipBytes)}, br ${kib(results.firstScreen.brotliBytes)}`,
    );
    console.log(`Owner's home page (/governance), ${RUNS} cold loads on loopback, median / p90:`);
    for (const [label, figure] of Object.entries(results.homePage)) {
      console.log(`  ${label.padEnd(18)} ${figure.medianMs} ms / ${figure.p90Ms} ms`);
    }
    console.log(`Results written to ${RESULTS_FILE}`);
  } finally {
    await browser.close();
    await gateway.stop();
    await rm(dataDirectory, { recursive: true, force: true });
  }
}

await main();
