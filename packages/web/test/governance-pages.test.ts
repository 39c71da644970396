import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { checkPage, signInAs, type TestTab } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

/**
 * An owner sets a rate limit and deletes it, creates a custom role, binds it and deletes it, then
 * finds the rate limit's creation in the audit log with what it recorded, and the latest signed
 * checkpoint; more events than a page come with "load more", and a failed read with "try again".
 */
describe('rate limits, custom roles and the audit log in the web app', () => {
  let tab: TestTab;

  const suite = useBrowserSuite({ GATEHOUSE_DEV_SSO: 'owner@example.com' });

  async function pick(page: Page, label: string, option: string) {
    await page.getByRole('dialog').getByLabel(label).click();
    await page.getByRole('option', { name: option }).click();
  }

  // One signed-in tab for the three steps, in order: the audit log finds what the first two did.
  it('creates and deletes a rate limit', async () => {
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');
    await page.goto(`${suite.server.url}/me`);

    await page.getByRole('link', { name: 'Rate limits' }).click();
    await page.getByText('No rate limits yet').waitFor();
    await checkPage(page, 'rate-limits-empty');
    await page.getByRole('button', { name: 'Create a rate limit' }).click();
    const limitDialog = page.getByRole('dialog', { name: 'Create a rate limit' });
    await pick(page, 'Applies to', 'a person');
    await pick(page, 'Which person', 'owner@example.com');
    await limitDialog.getByLabel('Tokens per minute').fill('20000');
    await checkPage(page, 'rate-limits-create');
    await limitDialog.getByRole('button', { name: 'Create rate limit' }).click();
    await limitDialog.waitFor({ state: 'hidden' });
    const limits = page.getByRole('region', { name: 'Rate limits' });
    await expect.poll(() => limits.textContent()).toContain('20,000 / min');
    expect(await limits.textContent()).toContain('owner@example.com');
    await checkPage(page, 'rate-limits');
    await limits.getByRole('button', { name: 'Delete limit on user owner@example.com' }).click();
    await page
      .getByRole('dialog', { name: 'Delete limit on user owner@example.com?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.getByText('No rate limits yet').waitFor();
  }, 60_000);

  it('creates a custom role, binds it and deletes it with its binding', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Roles and bindings' }).click();
    await page.getByRole('button', { name: 'Create a custom role' }).click();
    const roleDialog = page.getByRole('dialog', { name: 'Create a custom role' });
    await roleDialog.getByLabel('Name').fill('auditor');
    await roleDialog.getByLabel('Description').fill('Reads the audit log');
    // By keyboard: type to filter the catalogue, take the option.
    await roleDialog.getByRole('textbox', { name: 'Permissions' }).fill('auditLog');
    await page.getByRole('option', { name: 'auditLog:view' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await checkPage(page, 'roles-create');
    await roleDialog.getByRole('button', { name: 'Create role' }).click();
    await roleDialog.waitFor({ state: 'hidden' });
    const roles = page.getByRole('region', { name: 'Roles', exact: true });
    await expect.poll(() => roles.textContent()).toContain('Reads the audit log');
    expect(await roles.textContent()).toContain('auditLog:view');

    await page.getByRole('button', { name: 'Bind a role' }).click();
    const bindDialog = page.getByRole('dialog', { name: 'Bind a role' });
    await pick(page, 'Role', 'auditor');
    await pick(page, 'Person', 'owner@example.com');
    await bindDialog.getByRole('button', { name: 'Bind' }).click();
    await bindDialog.waitFor({ state: 'hidden' });
    const bindings = page.getByRole('region', { name: 'Bindings' });
    await expect
      .poll(() => bindings.getByRole('button', { name: /^Remove .* of owner@example.com$/ }).count())
      .toBe(2);
    await checkPage(page, 'roles-custom');
    await roles.getByRole('button', { name: 'Delete role auditor' }).click();
    await page
      .getByRole('dialog', { name: 'Delete role auditor?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await expect.poll(() => roles.textContent()).not.toContain('Reads the audit log');
    await expect.poll(() => bindings.getByRole('button', { name: /^Remove / }).count()).toBe(1);
  }, 60_000);

  it('finds both in the audit log, pages past 50 events and offers to retry a failed read', async () => {
    const { page } = tab;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expect
      .poll(() => page.getByTestId('latest-checkpoint').textContent())
      .toMatch(/^Latest signed checkpoint: event \d+, signed /);
    await page.getByText('Verify the whole chain with').waitFor();
    const events = page.getByRole('region', { name: 'Events' });
    await expect.poll(() => events.textContent()).toContain('role.delete');
    await page.getByLabel('Action').fill('rate_limit.create');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => events.getByRole('button', { name: /^Show event \d+$/ }).count()).toBe(1);
    expect(await events.textContent()).not.toContain('role.delete');
    const show = events.getByRole('button', { name: /^Show event \d+$/ });
    await show.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => events.textContent()).toContain('"tokensPerMinute": 20000');
    expect(await events.getByRole('button', { name: /^Hide event \d+$/ }).getAttribute('aria-expanded')).toBe(
      'true',
    );
    await checkPage(page, 'audit');

    await page.getByLabel('Action').fill('no.such_action');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('Nothing recorded matches these filters.').waitFor();

    // More events than a page: "Load more" follows the cursor to the rest.
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(
        Array.from({ length: 5 }, (_, index) =>
          suite.server.admin('POST', '/teams', { name: `team-${batch * 5 + index}` }),
        ),
      );
    }
    await page.getByLabel('Action').fill('team.create');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const shown = events.getByRole('button', { name: /^Show event \d+$/ });
    await expect.poll(() => shown.count()).toBe(50);
    await events.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => shown.count()).toBe(55);
    expect(await events.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    // A failed read (after the app's own retry) says so and offers to try again.
    let failing = true;
    await page.route('**/api/admin/audit?*', (route) =>
      failing
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: JSON.stringify({
              error: { code: 'unavailable', message: 'The audit log is unavailable.' },
            }),
          })
        : route.continue(),
    );
    await page.getByLabel('Action').fill('');
    await page.getByLabel('Target type').fill('team');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await events.getByText('The audit log is unavailable.').waitFor();
    failing = false;
    await events.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => shown.count()).toBe(50);
  }, 90_000);
});
