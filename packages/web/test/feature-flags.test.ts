import { describe, expect, it } from 'vitest';
import { checkPage, signInAs, type TestTab } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

const GOVERNANCE = 'release_ui_ai_governance_enabled';
const GATEWAY_MENU = 'release_ui_ai_gateway_menu_enabled';

/**
 * An owner's organisation switches release flags off: their pages leave the navigation, their
 * addresses say the page is switched off instead of failing, the person no longer lands on them,
 * and their API answers 404 to the same browser session.
 */
describe('release flags in the web app', () => {
  let tab: TestTab;

  const suite = useBrowserSuite({ GATEHOUSE_DEV_SSO: 'owner@example.com' });

  it('hides the pages of a flag that is off and shows them again when it is on', async () => {
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');

    const navigation = page.getByRole('navigation', { name: 'Main' });
    await page.goto(`${suite.server.url}/`);
    await page.waitForURL(`${suite.server.url}/governance`);
    await navigation.getByRole('link', { name: 'Governance' }).waitFor();
    await navigation.getByRole('link', { name: 'Providers' }).waitFor();

    const switched = await suite.server.admin('PATCH', '/organization', {
      featureFlags: { [GOVERNANCE]: false, [GATEWAY_MENU]: false },
    });
    expect(switched.featureFlags[GOVERNANCE].enabled).toBe(false);

    // The home page no longer opens on governance, and the flagged links are gone.
    await page.goto(`${suite.server.url}/`);
    await page.waitForURL((url) => url.pathname === '/usage' || url.pathname === '/me');
    await navigation.getByRole('link', { name: 'Usage' }).waitFor();
    const links = await navigation.getByRole('link').allTextContents();
    for (const hidden of [
      'Governance',
      'Spend',
      'Providers',
      'Routing policies',
      'Budgets',
      'Virtual keys',
    ]) {
      expect(links).not.toContain(hidden);
    }
    // Pages outside the flags stay.
    expect(links).toContain('Audit log');
    expect(links).toContain('Users and teams');

    await page.goto(`${suite.server.url}/governance`);
    await page.getByText('This page is switched off for your organisation').waitFor();
    await checkPage(page, 'feature-flag-off');

    // The same session's API calls behind the flag are 404, as if the routes did not exist.
    const statuses = await page.evaluate(async () => {
      const summary = await fetch('/api/admin/governance/summary');
      const providers = await fetch('/api/admin/providers');
      const audit = await fetch('/api/admin/audit');
      return [summary.status, providers.status, audit.status];
    });
    expect(statuses).toEqual([404, 404, 200]);

    await suite.server.admin('PATCH', '/organization', { featureFlags: { [GOVERNANCE]: true } });
    await page.goto(`${suite.server.url}/`);
    await page.waitForURL(`${suite.server.url}/governance`);
    await navigation.getByRole('link', { name: 'Governance' }).waitFor();
    expect(await navigation.getByRole('link').allTextContents()).not.toContain('Providers');
  });
});
