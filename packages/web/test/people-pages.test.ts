import { beforeAll, describe, expect, it } from 'vitest';
import { SsoConnections } from '../../server/src/control/sso/connections.js';
import { addPersonalKey, type QuickStart, quickStart } from '../../server/test/support/harness.js';
import { checkPage, signInAs, type TestTab } from './support/browser.js';
import { submitDialog, useBrowserSuite } from './support/suite.js';

const GATEWAY_MENU = 'release_ui_ai_gateway_menu_enabled';
const GOVERNANCE = 'release_ui_ai_governance_enabled';

/**
 * The people half of the admin UI: an owner rotates a service key (the old secret refused at
 * once), filters keys through the address, edits a budget, cuts a person's access off, renames a
 * team, connects OIDC and edits it without retyping its secret, hands SCIM a token and takes it
 * back, and switches a release flag off.
 */
describe('keys, budgets, people, SSO and the organisation in the web app', () => {
  let tab: TestTab;
  let engineer: TestTab;
  let setup: QuickStart;

  const suite = useBrowserSuite(
    {
      GATEHOUSE_DEV_SSO: 'owner@example.com,engineer@example.com',
      // One flag the deployment keeps on, so the page shows a switch it may not flip.
      FEATURE_FLAG_FORCE_ENABLE: GOVERNANCE,
    },
    { mock: true },
  );
  beforeAll(async () => {
    setup = await quickStart(suite.server, suite.mock);
  });

  const chat = (key: string) =>
    fetch(`${suite.server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('filters keys by project through the address and rotates a service key, shown once', async () => {
    const other = await suite.server.admin('POST', '/projects', { name: 'other' });
    await suite.server.admin('POST', '/virtual-keys', { projectId: other.id, name: 'ci-bot' });
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');

    await page.goto(`${suite.server.url}/keys?project=${setup.projectId}`);
    const keys = page.getByRole('region', { name: 'Keys' });
    await expect.poll(() => keys.textContent()).toContain('laptop');
    expect(await keys.textContent()).not.toContain('ci-bot');
    await expect.poll(() => page.getByRole('textbox', { name: 'Project' }).inputValue()).toBe('quick start');
    await checkPage(page, 'keys-filtered');

    // Choosing another project writes it into the address.
    await page.getByRole('textbox', { name: 'Project' }).click();
    await page.getByRole('option', { name: 'other' }).click();
    await page.waitForURL(`${suite.server.url}/keys?project=${other.id}`);
    await expect.poll(() => keys.textContent()).toContain('ci-bot');
    expect(await keys.textContent()).not.toContain('laptop');

    await page.goto(`${suite.server.url}/keys?project=${setup.projectId}`);
    await keys.getByRole('button', { name: 'Rotate laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate laptop?' });
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    await dialog.getByText('Copy it now').waitFor();
    const rotated = (await dialog.locator('code').textContent()) ?? '';
    expect(rotated).toMatch(/^gth_[0-9A-Za-z]{38}$/);
    expect(rotated).not.toBe(setup.key);
    await checkPage(page, 'keys-rotated');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await keys.textContent()).not.toContain(rotated);

    expect((await chat(setup.key)).status).toBe(401);
    expect((await chat(rotated)).status).toBe(200);
  }, 90_000);

  it('edits a budget in a dialog and lists its new limit with spent, reserved and remaining', async () => {
    const { page } = tab;
    await suite.server.admin('POST', '/budgets', {
      name: 'company',
      scope: 'org',
      scopeId: 'org_default',
      limitUsd: 50,
      window: 'month',
      action: 'block',
    });
    await page.goto(`${suite.server.url}/budgets`);
    const budgets = page.getByRole('region', { name: 'Budgets' });
    await expect.poll(() => budgets.textContent()).toContain('$50.00');
    expect(await budgets.textContent()).toContain('Remaining');
    await budgets.getByRole('button', { name: 'Edit company' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit company' });
    await dialog.getByLabel('Limit (USD)').fill('75');
    await checkPage(page, 'budgets-edit');
    await dialog.getByRole('button', { name: 'Save budget' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => budgets.textContent()).toContain('$75.00');
    const { data } = await suite.server.admin('GET', '/budgets');
    expect(data[0].limitUsd).toBe(75);
  }, 60_000);

  it("revokes all of a signed-in engineer's access, and renames a team", async () => {
    engineer = await suite.openTab();
    const { userId } = await signInAs(engineer, suite.server, 'engineer@example.com', 'member');
    const { key } = await addPersonalKey(suite.server, setup.projectId, userId);
    expect((await chat(key)).status).toBe(200);
    await suite.server.admin('POST', '/teams', { name: 'platform' });

    const { page } = tab;
    // The person filter, from the address: only their personal key, which is not rotatable.
    await page.goto(`${suite.server.url}/keys?person=${userId}`);
    const keys = page.getByRole('region', { name: 'Keys' });
    await expect.poll(() => keys.textContent()).toContain('personal');
    expect(await keys.textContent()).not.toContain('service');
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Person' }).inputValue())
      .toBe('engineer@example.com');
    expect(await keys.getByRole('button', { name: /^Rotate/ }).count()).toBe(0);

    await page.goto(`${suite.server.url}/people`);
    const users = page.getByRole('region', { name: 'Users' });
    await users.getByRole('button', { name: 'Revoke all access of engineer@example.com' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke all access of engineer@example.com?' });
    await expect
      .poll(() => dialog.textContent())
      .toContain('Every key and CLI sign-in of theirs stops working at once');
    await checkPage(page, 'people-revoke-all');
    await dialog.getByRole('button', { name: 'Revoke all access' }).click();
    await expect
      .poll(() => dialog.textContent())
      .toContain('1 key, 0 CLI sign-ins and 1 browser session revoked');
    await checkPage(page, 'people-revoked');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // Not offered on the owner's own row: it would end the session in use.
    expect(await users.getByRole('button', { name: 'Revoke all access of owner@example.com' }).count()).toBe(
      0,
    );

    expect((await chat(key)).status).toBe(401);
    const engineerMe = await engineer.page.evaluate(async () => (await fetch('/api/me')).status);
    expect(engineerMe).toBe(401);

    const teams = page.getByRole('region', { name: 'Teams' });
    await teams.getByRole('button', { name: 'Rename platform' }).click();
    await submitDialog(
      page,
      'Rename platform',
      () => page.getByRole('dialog', { name: 'Rename platform' }).getByLabel('Name').fill('platform-eng'),
      'Rename team',
    );
    await expect.poll(() => teams.textContent()).toContain('platform-eng');
    await engineer.context.close();
  }, 90_000);

  it('connects OIDC, edits it without retyping the secret, and creates and revokes a SCIM token', async () => {
    const { page } = tab;
    const secret = 'oidc-client-secret-0123456789';
    await page.goto(`${suite.server.url}/identity`);
    const oidc = page.getByRole('region', { name: 'OpenID Connect' });
    await oidc.getByLabel('Issuer').waitFor();
    expect(await page.getByRole('region', { name: 'For your identity provider' }).textContent()).toContain(
      `${suite.server.url}/scim/v2`,
    );
    await checkPage(page, 'identity');

    await oidc.getByLabel('Issuer').fill('http://127.0.0.1:9/oidc');
    await oidc.getByLabel('Client ID').fill('gatehouse-web');
    await oidc.getByLabel('Client secret').fill(secret);
    await oidc.getByRole('button', { name: 'Save OIDC settings' }).click();
    await expect.poll(() => oidc.textContent()).toContain('as gatehouse-web, with a client secret');
    // The field empties once the save is answered, which may be a moment after the refreshed
    // settings are on screen (the lists are read again first).
    await expect.poll(() => oidc.getByLabel('Client secret').inputValue()).toBe('');

    // The edit leaves the secret field empty: the stored one is kept.
    await oidc.getByLabel('Issuer').fill('http://127.0.0.1:9/oidc-renamed');
    await oidc.getByRole('button', { name: 'Save OIDC settings' }).click();
    await expect.poll(() => oidc.textContent()).toContain('Connected to http://127.0.0.1:9/oidc-renamed');
    const settings = await suite.server.admin('GET', '/sso');
    expect(settings.oidc).toEqual({
      issuer: 'http://127.0.0.1:9/oidc-renamed',
      clientId: 'gatehouse-web',
      hasClientSecret: true,
      fromEnvironment: false,
    });
    const connections = new SsoConnections(suite.server.gatehouse.storage.db, suite.server.gatehouse.box, {
      organizationId: 'none',
      connection: undefined,
    });
    expect((await connections.get('org_default', 'oidc'))?.clientSecret).toBe(secret);
    expect(await page.locator('body').textContent()).not.toContain(secret);
    expect(await page.content()).not.toContain(secret);

    const scim = page.getByRole('region', { name: 'SCIM tokens' });
    await scim.getByText('No SCIM tokens').waitFor();
    await scim.getByRole('button', { name: 'Create a SCIM token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a SCIM token' });
    await dialog.getByLabel('Name').fill('okta');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await dialog.getByText('Copy it now').waitFor();
    const token = (await dialog.locator('code').textContent()) ?? '';
    expect(token).toMatch(/^ghs_/);
    await checkPage(page, 'identity-scim-created');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => scim.textContent()).toContain('okta');
    expect(await scim.textContent()).not.toContain(token);

    const scimUsers = () =>
      fetch(`${suite.server.url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    expect((await scimUsers()).status).toBe(200);
    await scim.getByRole('button', { name: 'Revoke okta' }).click();
    await page.getByRole('dialog', { name: 'Revoke okta?' }).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => scim.textContent()).toContain('revoked');
    expect((await scimUsers()).status).toBe(401);

    const saml = page.getByRole('region', { name: 'SAML 2.0' });
    const certificate = `-----BEGIN CERTIFICATE-----\n${'MIIC'.repeat(40)}\n-----END CERTIFICATE-----`;
    await saml.getByLabel('Single sign-on URL').fill('https://idp.example.com/saml/sso');
    await saml.getByLabel('Identity provider entity ID').fill('https://idp.example.com/saml');
    await saml.getByLabel('Signing certificates').fill(certificate);
    await saml.getByRole('button', { name: 'Save SAML settings' }).click();
    await expect
      .poll(() => saml.textContent())
      .toContain('Connected to https://idp.example.com/saml, with 1 signing certificate.');
    expect((await suite.server.admin('GET', '/sso')).saml.certificates).toBe(1);
    await saml.getByRole('button', { name: 'Remove the SAML connection' }).click();
    await page
      .getByRole('dialog', { name: 'Remove the SAML connection?' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await expect.poll(() => saml.textContent()).toContain('Not connected.');

    // Removing the stored connection puts the development sign-in back for the other tests.
    await oidc.getByRole('button', { name: 'Remove the OIDC connection' }).click();
    await page
      .getByRole('dialog', { name: 'Remove the OIDC connection?' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await expect
      .poll(async () => (await suite.server.admin('GET', '/sso')).oidc.clientId)
      .not.toBe('gatehouse-web');
  }, 90_000);

  it('switches a release flag off on the organisation page, and its pages leave the navigation', async () => {
    const { page } = tab;
    await page.goto(`${suite.server.url}/organization`);
    const flags = page.getByRole('region', { name: 'Release flags' });
    const gatewayMenu = flags.getByRole('switch', { name: 'AI-gateway menu' });
    await gatewayMenu.waitFor();
    expect(await gatewayMenu.isChecked()).toBe(true);
    // Forced by the deployment: shown on, and not switchable.
    const governance = flags.getByRole('switch', { name: 'Governance pages' });
    expect(await governance.isChecked()).toBe(true);
    expect(await governance.isDisabled()).toBe(true);
    expect(await flags.textContent()).toContain('forced on for this deployment');
    await checkPage(page, 'organization');

    const navigation = page.getByRole('navigation', { name: 'Main' });
    await navigation.getByRole('link', { name: 'Budgets' }).waitFor();
    await gatewayMenu.click({ force: true });
    await expect.poll(() => navigation.getByRole('link').allTextContents()).not.toContain('Budgets');
    expect(await navigation.getByRole('link').allTextContents()).not.toContain('Virtual keys');
    const organization = await suite.server.admin('GET', '/organization');
    expect(organization.featureFlags[GATEWAY_MENU]).toEqual({ enabled: false, forced: false });

    await flags.getByRole('switch', { name: 'AI-gateway menu' }).click({ force: true });
    await navigation.getByRole('link', { name: 'Budgets' }).waitFor();

    // A setting: the name shows in the organisation's own settings once saved.
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Name').fill('Example Ltd');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(async () => (await suite.server.admin('GET', '/organization')).name)
      .toBe('Example Ltd');
  }, 60_000);

  it('shows a viewer the organisation read-only, and no SSO page', async () => {
    const viewer = await suite.openTab();
    const { page } = viewer;
    await signInAs(viewer, suite.server, 'engineer@example.com', 'viewer');
    await page.goto(`${suite.server.url}/organization`);
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Name').waitFor();
    expect(await settings.getByLabel('Name').isDisabled()).toBe(true);
    expect(await settings.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    const flags = page.getByRole('region', { name: 'Release flags' });
    expect(await flags.getByRole('switch', { name: 'AI-gateway menu' }).isDisabled()).toBe(true);
    expect(await flags.textContent()).toContain('Only owners');
    await checkPage(page, 'organization-read-only');
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toContain('Organisation');
    expect(links).not.toContain('SSO and SCIM');
    await page.goto(`${suite.server.url}/identity`);
    await page.getByText('Your role does not include this page').waitFor();
    expect(viewer.problems).toEqual([]);
    await viewer.context.close();
  }, 60_000);
});
