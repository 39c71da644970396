import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../../server/test/mock-upstream/mock-upstream.js';
import { startAddressableGatehouse, type TestGatehouse } from '../../../server/test/support/harness.js';
import { launchBrowser, openTab, type TestTab } from './browser.js';

/**
 * One e2e file's parts: a real server on loopback (with `env`), the provider mock when asked for,
 * and one Chromium. Every tab opened through the suite must end the file with no console error
 * or CSP refusal; everything is closed after the file.
 */
export interface BrowserSuite {
  readonly server: TestGatehouse;
  readonly mock: MockUpstream;
  readonly browser: Browser;
  openTab(colorScheme?: 'light' | 'dark'): Promise<TestTab>;
}

export function useBrowserSuite(env: Record<string, string>, options: { mock?: boolean } = {}): BrowserSuite {
  let server: TestGatehouse | undefined;
  let mock: MockUpstream | undefined;
  let browser: Browser | undefined;
  const tabs: TestTab[] = [];
  const started = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`the suite's ${name} is not started (read it inside a test)`);
    return part;
  };

  beforeAll(async () => {
    [server, mock, browser] = await Promise.all([
      startAddressableGatehouse(env),
      options.mock ? startMockUpstream() : undefined,
      launchBrowser(),
    ]);
  }, 30_000);
  afterAll(async () => {
    for (const tab of tabs) expect(tab.problems).toEqual([]);
    await browser?.close();
    await server?.close();
    await mock?.close();
  });

  return {
    get server() {
      return started(server, 'server');
    },
    get mock() {
      return started(mock, 'provider mock');
    },
    get browser() {
      return started(browser, 'browser');
    },
    async openTab(colorScheme = 'light') {
      const tab = await openTab(started(browser, 'browser'), colorScheme);
      tabs.push(tab);
      return tab;
    },
  };
}

/** Fills a dialog's form, submits it with the button named `submit`, and waits for it to close. */
export async function submitDialog(
  page: Page,
  title: string,
  fill: () => Promise<void>,
  submit: string,
): Promise<void> {
  const dialog = page.getByRole('dialog', { name: title });
  await fill();
  await dialog.getByRole('button', { name: submit, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}
