import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollToken, startDeviceAuthorization } from '../../server/test/support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway } from '../../server/test/support/harness.js';
import { checkPage, launchBrowser, openTab, signIn, signInAs, type TestTab } from './support/browser.js';

/**
 * An engineer's web app: signed out, the sign-in page; signed in through SSO (the development
 * identity provider), their own page with the CLI device they signed in, its spend, and
 * revoking it. A member sees no admin page and the admin API refuses them.
 */
describe('sign-in and my access', () => {
  let gateway: QuickStartGateway;
  let browser: Browser;
  const tabs: TestTab[] = [];

  beforeAll(async () => {
    [gateway, browser] = await Promise.all([
      startQuickStartGateway(
        { GATEHOUSE_DEV_SSO: 'eng@example.com,member@example.com,billing@example.com' },
        { addressable: true },
      ),
      launchBrowser(),
    ]);
  }, 30_000);
  afterAll(async () => {
    for (const tab of tabs) expect(tab.problems).toEqual([]);
    await browser?.close();
    await gateway?.close();
  });

  it('signs an engineer in, back to the page they asked for, and shows their device, spend and keys; they revoke the device', async () => {
    const tab = await openTab(browser);
    tabs.push(tab);
    const { page } = tab;
    const { url } = gateway.server;

    await page.goto(`${url}/me`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor();
    await checkPage(page, 'sign-in');
    await signIn(tab, url, 'eng@example.com', '/me');
    expect(new URL(page.url()).pathname).toBe('/me');
    await expect
      .poll(() => page.getByRole('region', { name: 'My devices' }).textContent())
      .toContain('No devices signed in');

    // The CLI's device sign-in, approved in this browser, which is signed in already.
    const device = await startDeviceAuthorization(gateway.server, 'eng-laptop');
    await page.goto(device.verification_uri_complete);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Device approved').waitFor();
    const token = await pollToken(gateway.server, device.device_code);
    expect(token.status).toBe(200);
    const call = await fetch(`${url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token.body.access_token}`,
        'content-type': 'application/json',
        'user-agent': 'claude-cli/2.0.14 (external, cli)',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(call.status).toBe(200);
    await gateway.server.flushUsage();
    // A block budget on the engineer smaller than what that call cost: it is exhausted now.
    const { data: engineers } = await gateway.server.admin('GET', '/users?email=eng%40example.com');
    await gateway.server.admin('POST', '/budgets', {
      name: 'eng tiny',
      scope: 'user',
      scopeId: engineers[0].id,
      limitUsd: 0.000001,
      window: 'month',
      action: 'block',
    });

    // `/` opens the engineer's landing page, now that they have a device: /me.
    await page.goto(`${url}/`);
    await page.waitForURL(`${url}/me`);
    const devices = page.getByRole('region', { name: 'My devices' });
    await expect.poll(() => devices.textContent()).toContain('eng-laptop');
    await expect
      .poll(() => page.getByRole('region', { name: 'My spend this month' }).textContent())
      .toContain('Claude Code');
    await expect
      .poll(() => page.getByRole('region', { name: 'My recent requests' }).textContent())
      .toMatch(/gpt-4o-miniClaude Code200/);
    await expect
      .poll(() => page.getByRole('region', { name: 'My personal keys' }).textContent())
      .toContain('active');
    await expect
      .poll(() => page.getByRole('region', { name: 'Use your tools through Gatehouse' }).textContent())
      .toContain(`gatehouse login --server ${url}`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('eng tiny');
    await checkPage(page, 'me');

    await devices.getByRole('button', { name: 'Sign out eng-laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign this device out?' });
    await dialog.getByRole('button', { name: 'Sign out device' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => devices.textContent()).toContain('revoked');
    const refused = await fetch(`${url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token.body.access_token}`,
        'content-type': 'application/json',
        'user-agent': 'claude-cli/2.0.14 (external, cli)',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(refused.status).toBe(401);

    // The home page settles (with the device gone, the engineer's home is usage): heading shown
    // and no loading state left, with a warm cache and in a new profile that has only the session
    // cookie. How fast it gets there is bench/web.ts's to measure, not a test's.
    await page.goto(`${url}/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[role="status"][aria-live]'));
    const cold = await browser.newContext({ storageState: await tab.context.storageState() });
    const coldPage = await cold.newPage();
    await coldPage.goto(`${url}/`);
    await coldPage.getByRole('heading', { level: 1 }).waitFor();
    await coldPage.waitForFunction(() => !document.querySelector('[role="status"][aria-live]'));
    expect(await coldPage.getByRole('heading', { level: 1 }).textContent()).toBe(
      await page.getByRole('heading', { level: 1 }).textContent(),
    );
    await cold.close();
  }, 90_000);

  it('shows a member no admin page, and the admin API answers them 403', async () => {
    const tab = await openTab(browser, 'dark');
    tabs.push(tab);
    const { page } = tab;
    // Signed in by keyboard alone: Tab to the sign-in button, Enter, then the picker's button.
    await page.goto(`${gateway.server.url}/`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in with SSO');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'member@example.com' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('member@example.com');
    // No device, no key, no role: the usage page is their home.
    await page.waitForURL(`${gateway.server.url}/usage`);
    const navigation = page.getByRole('navigation');
    const links = await navigation.getByRole('link').allTextContents();
    expect(links).toEqual(['My access', 'Usage']);
    await checkPage(page, 'usage-member');
    const status = await page.evaluate(async () => (await fetch('/api/admin/providers')).status);
    expect(status).toBe(403);
    await page.goto(`${gateway.server.url}/providers`);
    await page.getByText('Your role does not include this page').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401);
  }, 40_000);

  it('opens spend for a billing person, without providers or setup', async () => {
    const tab = await openTab(browser);
    tabs.push(tab);
    const { page } = tab;
    await signInAs(tab, gateway.server, 'billing@example.com', 'billing');
    await page.goto(`${gateway.server.url}/`);
    await page.waitForURL(`${gateway.server.url}/spend`);
    await page.getByRole('region', { name: 'Top spenders this month' }).waitFor();
    expect(await page.getByRole('region', { name: 'Setup checklist' }).count()).toBe(0);
    expect(await page.getByRole('navigation').getByRole('link').allTextContents()).toEqual([
      'My access',
      'Spend',
      'Usage',
      'Budgets',
      'Organisation',
    ]);
    await checkPage(page, 'spend');
  }, 40_000);

  it('switches a person signed in to two organisations between them', async () => {
    const { server } = gateway;
    const globex = await server.admin('POST', '/organizations', { name: 'Globex', slug: 'globex' });
    const home = await server.admin('GET', '/organization');
    // Globex signs its people in through the same development identity provider.
    const connected = await fetch(`${server.url}/api/admin/sso/oidc`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${globex.ownerToken.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ issuer: `${server.url}/api/dev-idp`, clientId: 'gatehouse-dev-sso' }),
    });
    expect(connected.status).toBe(200);

    const tab = await openTab(browser);
    tabs.push(tab);
    const { page } = tab;
    await signIn(tab, server.url, 'member@example.com', '/me');
    await page.goto(`${server.url}/api/auth/sso/login?organization=globex&return_to=%2Fme`);
    await page.getByRole('button', { name: 'member@example.com' }).click();
    await page.waitForURL(`${server.url}/me`);
    const switcher = page.getByRole('textbox', { name: 'Organisation' });
    await expect.poll(() => switcher.inputValue()).toBe('Globex');
    const current = () => page.evaluate(async () => (await (await fetch('/api/me')).json()).organization.id);
    expect(await current()).toBe(globex.id);

    await switcher.click();
    await page.getByRole('option', { name: home.name }).click();
    await expect.poll(() => switcher.inputValue()).toBe(home.name);
    expect(await current()).toBe(home.id);
    await checkPage(page, 'me-two-organisations');
  }, 40_000);

  it('shows a loading state while a list is on its way and an error state with a retry when it fails', async () => {
    const tab = await openTab(browser);
    tabs.push(tab);
    const { page } = tab;
    await signIn(tab, gateway.server.url, 'member@example.com', '/me');
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let failing = true;
    await page.route('**/api/me/devices', async (route) => {
      await held;
      if (!failing) return route.continue();
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          error: { code: 'storage_unavailable', message: 'Storage is not answering.' },
        }),
      });
    });
    await page.goto(`${gateway.server.url}/me`);
    const devices = page.getByRole('region', { name: 'My devices' });
    await devices.getByRole('status').getByText('Loading your devices…').waitFor();
    release();
    // TanStack Query retries a 5xx twice before showing the failure.
    await devices.getByRole('alert').getByText('Storage is not answering.').waitFor({ timeout: 15_000 });
    await checkPage(page, 'me-error');
    failing = false;
    await devices.getByRole('button', { name: 'Try again' }).click();
    await devices.getByText('No devices signed in').waitFor();
  }, 40_000);
});
