import { describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from '../../server/test/mock-upstream/mock-upstream.js';
import { checkPage, signInAs, type TestTab } from './support/browser.js';
import { submitDialog, useBrowserSuite } from './support/suite.js';

/**
 * An administrator sets an organisation up from the web app alone: connects a provider,
 * publishes a routing policy, creates a project and a key (shown once), sets a budget, sees a
 * call made with the key in the usage explorer and on the governance page, then revokes the key.
 */
describe('administering the organisation in the web app', () => {
  let tab: TestTab;

  const suite = useBrowserSuite({ GATEHOUSE_DEV_SSO: 'owner@example.com' }, { mock: true });

  const chat = (key: string) =>
    fetch(`${suite.server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  // The steps run in order, in one signed-in tab: each stands on what the one before it made.
  let key = '';

  it('shows a new owner what is left to set up, and connects a provider', async () => {
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');

    // An owner's home is governance: everything still to set up, nothing spent.
    await page.goto(`${suite.server.url}/`);
    await page.waitForURL(`${suite.server.url}/governance`);
    const checklist = page.getByRole('region', { name: 'Setup checklist' });
    await expect.poll(() => checklist.textContent()).toContain('Connect a provider: to do');
    await expect.poll(() => checklist.textContent()).toContain('Set up single sign-on: done');
    await checkPage(page, 'governance-new');

    await page.getByRole('link', { name: 'Providers' }).click();
    await page.getByText('No provider connected').waitFor();
    await page.getByRole('button', { name: 'Connect a provider' }).click();
    await checkPage(page, 'providers-connect');
    await submitDialog(
      page,
      'Connect a provider',
      async () => {
        await page.getByLabel('Name').fill('mock-openai');
        await page.getByLabel('Base URL').fill(`${suite.mock.url}/v1`);
        await page.getByLabel('API key').fill(MOCK_UPSTREAM_API_KEY);
        await page.getByRole('textbox', { name: 'Models' }).fill('gpt-4o-mini');
        await page.getByRole('textbox', { name: 'Models' }).press('Enter');
      },
      'Connect',
    );
    const providers = page.getByRole('region', { name: 'Connected providers' });
    await expect.poll(() => providers.textContent()).toContain('mock-openai');
    expect(await providers.textContent()).not.toContain(MOCK_UPSTREAM_API_KEY);
    await checkPage(page, 'providers');
  }, 90_000);

  it('publishes a routing policy, its chain picked by keyboard', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Routing policies' }).click();
    await page.getByRole('button', { name: 'Create a policy' }).click();
    await submitDialog(
      page,
      'Create a routing policy',
      async () => {
        await page.getByLabel('Name').fill('default');
        // By keyboard: focus the chain's picker, open it, take the first option.
        await page.getByRole('textbox', { name: 'Add a provider to the chain' }).focus();
        await page.keyboard.press('ArrowDown');
        // The list highlights its first option a moment after it opens; Enter before that picks nothing.
        await page
          .locator('[role="option"][data-combobox-selected]', { hasText: 'mock-openai (openai)' })
          .waitFor();
        await page.keyboard.press('Enter');
        await page.getByText('1. mock-openai').waitFor();
      },
      'Create',
    );
    await expect
      .poll(() => page.getByRole('region', { name: 'Policies' }).textContent())
      .toContain('default');
    await checkPage(page, 'routing');
  }, 90_000);

  it('creates a project and a service key, shown once, that calls the gateway', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Virtual keys' }).click();
    await page.getByRole('button', { name: 'Create a project' }).click();
    await submitDialog(
      page,
      'Create a project',
      () => page.getByLabel('Name').fill('demo'),
      'Create project',
    );
    await expect.poll(() => page.getByRole('region', { name: 'Projects' }).textContent()).toContain('demo');
    await page.getByRole('button', { name: 'Create a key' }).click();
    const keyDialog = page.getByRole('dialog', { name: 'Create a service key' });
    await keyDialog.getByLabel('Name').fill('ci-bot');
    await keyDialog.getByRole('button', { name: 'Create key' }).click();
    await keyDialog.getByText('Copy it now').waitFor();
    key = (await keyDialog.locator('code').textContent()) ?? '';
    expect(key).toMatch(/^gth_[0-9A-Za-z]{38}$/);
    await checkPage(page, 'keys-created');
    await keyDialog.getByRole('button', { name: 'Done' }).click();
    await keyDialog.waitFor({ state: 'hidden' });
    const keys = page.getByRole('region', { name: 'Keys' });
    await expect.poll(() => keys.textContent()).toContain('ci-bot');
    expect(await keys.textContent()).not.toContain(key);

    expect((await chat(key)).status).toBe(200);
  }, 90_000);

  it('sets a budget, and finds the call in usage, its CSV export and governance', async () => {
    const { page } = tab;
    await suite.server.flushUsage();
    await page.getByRole('link', { name: 'Budgets' }).click();
    await page.getByText('No budgets yet').waitFor();
    await page.getByRole('button', { name: 'Create a budget' }).click();
    await submitDialog(
      page,
      'Create a budget',
      async () => {
        await page.getByLabel('Name').fill('company');
        await page.getByLabel('Limit (USD)').fill('50');
      },
      'Create budget',
    );
    await expect.poll(() => page.getByRole('region', { name: 'Budgets' }).textContent()).toContain('company');
    await checkPage(page, 'budgets');

    await page.getByRole('link', { name: 'Usage' }).click();
    const usage = page.getByRole('region', { name: 'By person or service key' });
    await expect.poll(() => usage.textContent()).toContain('ci-bot');
    await expect.poll(() => page.getByTestId('total-Requests').textContent()).toBe('1');
    const download = page.waitForEvent('download');
    await usage.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await (await download).createReadStream();
    const text = await new Response(csv as unknown as ReadableStream).text();
    expect(text.split('\n')[0]).toBe(
      'group,name,requests,refused,errors,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd',
    );
    expect(text).toContain('"ci-bot');
    await checkPage(page, 'usage');

    await page.getByRole('link', { name: 'Governance' }).click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Top spenders this month' }).textContent())
      .toContain('ci-bot');
    const checklist = page.getByRole('region', { name: 'Setup checklist' });
    await expect.poll(() => checklist.textContent()).toContain('Connect a provider: done');
    await checkPage(page, 'governance');
  }, 90_000);

  it('revokes the key, and the gateway refuses it at once', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Virtual keys' }).click();
    const keys = page.getByRole('region', { name: 'Keys' });
    await keys.getByRole('button', { name: 'Revoke ci-bot' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke ci-bot?' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await expect.poll(() => keys.textContent()).toContain('revoked');
    expect((await chat(key)).status).toBe(401);
  }, 90_000);

  it('shows people, roles and admin tokens, and a new token once', async () => {
    const { page } = tab;
    await page.goto(`${suite.server.url}/people`);
    await expect
      .poll(() => page.getByRole('region', { name: 'Users' }).textContent())
      .toContain('owner@example.com');
    await page.getByRole('button', { name: 'Create a team' }).click();
    await submitDialog(page, 'Create a team', () => page.getByLabel('Name').fill('platform'), 'Create team');
    await expect.poll(() => page.getByRole('region', { name: 'Teams' }).textContent()).toContain('platform');
    await checkPage(page, 'people');

    await page.getByRole('link', { name: 'Roles and bindings' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Bindings' }).textContent()).toContain('owner');
    await checkPage(page, 'roles');

    await page.getByRole('link', { name: 'Admin tokens' }).click();
    await page.getByText('No admin tokens').waitFor();
    await page.getByRole('button', { name: 'Create a token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create an admin token' });
    await dialog.getByLabel('Name').fill('terraform');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const token = (await dialog.locator('code').textContent()) ?? '';
    expect(token).toMatch(/^gha_/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const listed = await fetch(`${suite.server.url}/api/admin/providers`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    await checkPage(page, 'tokens');
  }, 90_000);
});
