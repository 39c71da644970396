import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestGatehouse } from '../../../server/test/support/harness.js';

/**
 * The e2e tests' browser: Debian's Chromium driven headless by playwright-core, against a real
 * server started in the test. Every page a test visits can be checked: axe finds no serious or
 * critical violation, and a screenshot at 1280 and 390 px lands in test/screenshots/.
 */

const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '../screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
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
}

/** A fresh browser profile (its own cookies), with every console error and CSP refusal collected. */
export interface TestTab {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

export async function openTab(browser: Browser, colorScheme: 'light' | 'dark' = 'light'): Promise<TestTab> {
  const context = await browser.newContext({ viewport: DESKTOP, colorScheme, reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // A refused API call (403, 404) is logged by the browser; the app shows it as a state instead.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, problems };
}

/** Signs in through the development identity provider's picker, from the app's sign-in page. */
export async function signIn(tab: TestTab, baseUrl: string, email: string, path = '/'): Promise<void> {
  const { page } = tab;
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await page.getByRole('button', { name: email }).click();
  await page.waitForURL((url) => url.origin === baseUrl && !url.pathname.startsWith('/api/'));
  await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe(email);
}

/**
 * Signs `email` in (which creates the person on first sign-in), then binds them `role` over the
 * organisation through the admin API, as an administrator would have.
 */
export async function signInAs(
  tab: TestTab,
  server: Pick<TestGatehouse, 'url' | 'admin'>,
  email: string,
  role: string,
  path = '/',
): Promise<{ userId: string }> {
  await signIn(tab, server.url, email, path);
  const { data: people } = await server.admin<{ data: { id: string }[] }>(
    'GET',
    `/users?email=${encodeURIComponent(email)}`,
  );
  const userId = people[0]?.id;
  if (!userId) throw new Error(`${email} signed in but is not listed`);
  await server.admin('POST', '/role-bindings', { role, subject: { kind: 'user', id: userId } });
  return { userId };
}

/**
 * Checks the page as it is now at both widths: no serious or critical axe violation, a
 * screenshot of each. `ready` is what must be visible first.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [width, viewport] of [
    ['1280', DESKTOP],
    ['390', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.waitForFunction(() => !document.querySelector('[role="status"][aria-live]'), undefined, {
      timeout: 10_000,
    });
    // Contrast is judged on the settled page, not halfway through a dialog's fade.
    await page.waitForFunction(() =>
      document.getAnimations().every((animation) => animation.playState !== 'running'),
    );
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) =>
          `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
      );
    expect(serious, `${name} at ${width} px`).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}
