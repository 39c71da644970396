import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { MOCK_UPSTREAM_API_KEY } from '../../server/test/mock-upstream/mock-upstream.js';
import { checkPage, signInAs, type TestTab } from './support/browser.js';
import { submitDialog, useBrowserSuite } from './support/suite.js';

/**
 * The policy plane in the web app: provider forms drawn from the server's provider types, a
 * connection test with the stored secret, rotating that secret (never shown), and a routing
 * policy's chain reordered by keyboard and by drag, with aliases, a deny list and the resolver's
 * own preview of which provider would serve a model.
 */
describe('providers and routing policies in the web app', () => {
  let tab: TestTab;
  const WRONG_SECRET = 'sk-wrong-secret-typed-by-mistake';

  const suite = useBrowserSuite({ GATEHOUSE_DEV_SSO: 'owner@example.com' }, { mock: true });

  async function connectionTest(page: Page, name: string): Promise<string> {
    const status = page.getByRole('status', { name: `Connection test of ${name}` });
    await page.getByRole('button', { name: `Test ${name}`, exact: true }).click();
    await expect.poll(() => status.textContent()).toMatch(/^(Connected|Failed)/);
    return (await status.textContent()) ?? '';
  }

  it('draws each type its own form, tests a connection and rotates its secret without showing it', async () => {
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');
    await page.goto(`${suite.server.url}/providers`);
    await page.getByRole('button', { name: 'Connect a provider' }).click();
    const dialog = page.getByRole('dialog', { name: 'Connect a provider' });

    // Vertex's form is Vertex's: its project, region and key file, each required.
    await dialog.getByRole('textbox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'vertex' }).click();
    await dialog.getByLabel('Google Cloud project id').waitFor();
    expect(
      await dialog.getByRole('textbox', { name: 'Service account key file' }).getAttribute('required'),
    ).not.toBeNull();
    await dialog.getByLabel('Name').fill('gcp');
    await dialog.getByRole('button', { name: 'Connect', exact: true }).click();
    await dialog.getByText('Required').first().waitFor();
    expect(await dialog.getByText('Required').count()).toBe(3);
    await checkPage(page, 'providers-connect-vertex');

    // Azure asks for its endpoint and takes its deployments as a JSON map.
    await dialog.getByRole('textbox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'azure' }).click();
    await dialog.getByLabel('Model name → deployment name').waitFor();
    expect(await dialog.getByLabel('Base URL').getAttribute('required')).not.toBeNull();

    await dialog.getByRole('textbox', { name: 'Type' }).click();
    await page.getByRole('option', { name: 'anthropic' }).click();
    await submitDialog(
      page,
      'Connect a provider',
      async () => {
        await dialog.getByLabel('Name').fill('claude');
        await dialog.getByLabel('Base URL').fill(suite.mock.url);
        await dialog.getByLabel('API key').fill(MOCK_UPSTREAM_API_KEY);
      },
      'Connect',
    );
    const providers = page.getByRole('region', { name: 'Connected providers' });
    await expect.poll(() => providers.textContent()).toContain('claude');
    expect(await connectionTest(page, 'claude')).toMatch(/^ConnectedHTTP 200, \d+ ms: /);

    // Edit: the settings come back filled in, the secret does not.
    await page.getByRole('button', { name: 'Edit claude' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit claude' });
    expect(await edit.getByLabel('Base URL').inputValue()).toBe(suite.mock.url);
    expect(await edit.getByLabel('API key').count()).toBe(0);
    await submitDialog(
      page,
      'Edit claude',
      async () => {
        await edit.getByRole('textbox', { name: 'Models' }).fill('claude-sonnet-4-6');
        await edit.getByRole('textbox', { name: 'Models' }).press('Enter');
      },
      'Save',
    );
    await expect.poll(() => providers.textContent()).toContain('claude-sonnet-4-6');

    // A wrong secret typed in shows in the connection test, never on the page.
    await page.getByRole('button', { name: 'Rotate secret of claude' }).click();
    await checkPage(page, 'providers-rotate');
    await submitDialog(
      page,
      'Rotate the secret of claude',
      () => page.getByRole('dialog').getByLabel('New API key').fill(WRONG_SECRET),
      'Rotate',
    );
    expect(await connectionTest(page, 'claude')).toMatch(/^FailedHTTP 401, /);
    await page.getByRole('button', { name: 'Rotate secret of claude' }).click();
    await submitDialog(
      page,
      'Rotate the secret of claude',
      () => page.getByRole('dialog').getByLabel('New API key').fill(MOCK_UPSTREAM_API_KEY),
      'Rotate',
    );
    expect(await connectionTest(page, 'claude')).toMatch(/^Connected/);
    await checkPage(page, 'providers-tested');
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain(MOCK_UPSTREAM_API_KEY);
    expect(text).not.toContain(WRONG_SECRET);
  }, 90_000);

  it('orders a chain by keyboard and by drag, with aliases and a deny list, and previews the route', async () => {
    const { page } = tab;
    await suite.server.admin('POST', '/providers', {
      name: 'gpt',
      type: 'openai',
      baseUrl: `${suite.mock.url}/v1`,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gpt-4o-mini'],
    });
    await page.goto(`${suite.server.url}/routing`);
    await page.getByText('No routing policy').waitFor();
    await page.getByRole('button', { name: 'Create a policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a routing policy' });
    await dialog.getByLabel('Name').fill('default');
    const picker = dialog.getByRole('textbox', { name: 'Add a provider to the chain' });
    for (const name of ['claude (anthropic)', 'gpt (openai)']) {
      await picker.click();
      await page.getByRole('option', { name }).click();
    }
    const chainText = () => dialog.getByRole('list', { name: 'Providers, in the order tried' }).textContent();
    await expect.poll(chainText).toBe('1. claude2. gpt');

    // By keyboard: the focus stays on the moved row's button.
    await dialog.getByRole('button', { name: 'Move claude down' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(chainText).toBe('1. gpt2. claude');
    // claude is last now, so its down button is disabled: the focus moved to its up button.
    await expect
      .poll(() => page.evaluate('document.activeElement?.getAttribute("aria-label")'))
      .toBe('Move claude up');
    await page.getByText('claude moved to position 2 of 2').waitFor();
    // By drag: claude back on top.
    await dialog.getByTestId('chain-claude').dragTo(dialog.getByTestId('chain-gpt'));
    await expect.poll(chainText).toBe('1. claude2. gpt');

    await dialog.getByRole('button', { name: 'Add an alias' }).click();
    await dialog.getByLabel('Alias 1: asked for').fill('fast');
    await dialog.getByLabel('Alias 1: sent as').fill('gpt-4o-mini');
    await dialog.getByRole('textbox', { name: 'Denied models' }).fill('*-opus-*');
    await dialog.getByRole('textbox', { name: 'Denied models' }).press('Enter');
    await checkPage(page, 'routing-edit');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });

    const { data: policies } = await suite.server.admin<{ data: Record<string, unknown>[] }>(
      'GET',
      '/routing-policies',
    );
    const { data: stored } = await suite.server.admin<{ data: { id: string; name: string }[] }>(
      'GET',
      '/providers',
    );
    const idOf = (name: string) => stored.find((provider) => provider.name === name)?.id;
    expect(policies[0]).toMatchObject({
      providers: [idOf('claude'), idOf('gpt')],
      modelAliases: { fast: 'gpt-4o-mini' },
      deniedModels: ['*-opus-*'],
      isDefault: true,
    });
    const table = page.getByRole('region', { name: 'Policies' });
    await expect.poll(() => table.textContent()).toContain('claude → gpt');
    expect(await table.textContent()).toContain('fast → gpt-4o-mini');

    // The preview answers with the gateway's own resolver.
    const preview = page.getByTestId('routing-preview');
    const ask = async (model: string) => {
      await page.getByLabel('Model', { exact: true }).fill(model);
      await page.getByRole('button', { name: 'Preview' }).click();
      await expect.poll(() => preview.textContent()).toContain(model);
      return (await preview.textContent()) ?? '';
    };
    const aliased = await ask('fast');
    expect(aliased).toContain('fast under policy default (the default); it is sent as gpt-4o-mini.');
    expect(aliased).toContain('Served by gpt (openai)');
    expect(aliased).toContain('claude (anthropic): skipped: it does not serve this model');
    const native = await ask('claude-sonnet-4-6');
    expect(native).toContain('Served by claude (anthropic), translated to the anthropic-messages API.');
    expect(await ask('claude-opus-4-1')).toContain('Refused:');
    await checkPage(page, 'routing-preview');

    // Edit keeps what was stored: reorder by keyboard and save.
    await page.getByRole('button', { name: 'Edit default' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit default' });
    await expect.poll(() => edit.getByRole('list').first().textContent()).toBe('1. claude2. gpt');
    expect(await edit.getByLabel('Alias 1: asked for').inputValue()).toBe('fast');
    await edit.getByRole('button', { name: 'Move gpt up' }).click();
    await edit.getByRole('button', { name: 'Save', exact: true }).click();
    await edit.waitFor({ state: 'hidden' });
    await expect.poll(() => table.textContent()).toContain('gpt → claude');
  }, 90_000);
});
