import { describe, expect, it } from 'vitest';
import { quickStart } from '../../server/test/support/harness.js';
import { checkPage, signIn, type TestTab } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

/**
 * A team lead, bound the admin role over their team only, finds the pages whose API answers
 * within a scope (budgets and keys) in the navigation, sees their team's budgets and keys and
 * nothing else, and changes their own; pages they cannot open are not offered as their home.
 */
describe("a team lead's web app", () => {
  let tab: TestTab;

  const suite = useBrowserSuite({ GATEHOUSE_DEV_SSO: 'lead@example.com' }, { mock: true });

  it('shows budgets and keys of their team only, with their row actions, and no organisation page', async () => {
    const setup = await quickStart(suite.server, suite.mock);
    const team = await suite.server.admin('POST', '/teams', { name: 'alpha' });
    const project = await suite.server.admin('POST', '/projects', { name: 'alpha app' });
    await suite.server.admin('PATCH', `/projects/${project.id}`, { teamId: team.id });
    await suite.server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'alpha-bot' });
    await suite.server.admin('POST', '/budgets', {
      name: 'alpha monthly',
      scope: 'team',
      scopeId: team.id,
      limitUsd: 20,
      window: 'month',
      action: 'alert',
    });
    await suite.server.admin('POST', '/budgets', {
      name: 'company',
      scope: 'org',
      scopeId: (await suite.server.admin('GET', '/organization')).id,
      limitUsd: 1000,
      window: 'month',
      action: 'alert',
    });
    expect(setup.key).toMatch(/^gth_/); // the quick start's key, outside the team

    tab = await suite.openTab();
    const { page } = tab;
    await signIn(tab, suite.server.url, 'lead@example.com', '/me');
    const { data: people } = await suite.server.admin('GET', '/users?email=lead%40example.com');
    await suite.server.admin('POST', '/role-bindings', {
      role: 'admin',
      subject: { kind: 'user', id: people[0].id },
      scope: { kind: 'team', id: team.id },
    });
    await page.reload();

    const navigation = page.getByRole('navigation', { name: 'Main' });
    await navigation.getByRole('link', { name: 'Budgets' }).waitFor();
    const links = await navigation.getByRole('link').allTextContents();
    expect(links).toEqual(['My access', 'Usage', 'Budgets', 'Virtual keys']);
    await page.getByRole('textbox', { name: 'Home page' }).click();
    expect(await page.getByRole('option').allTextContents()).toEqual([
      'Chosen for my role',
      'My access',
      'Usage',
    ]);
    await page.keyboard.press('Escape');

    await navigation.getByRole('link', { name: 'Budgets' }).click();
    const budgets = page.getByRole('region', { name: 'Budgets' });
    await expect.poll(() => budgets.textContent()).toContain('alpha monthly');
    expect(await budgets.textContent()).not.toContain('company');
    expect(await page.getByRole('button', { name: 'Create a budget' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Edit alpha monthly' }).click();
    const edit = page.getByRole('dialog', { name: /alpha monthly/ });
    await edit.getByLabel('Limit (USD)').fill('25');
    await edit.getByRole('button', { name: 'Save budget' }).click();
    await edit.waitFor({ state: 'hidden' });
    await expect.poll(() => budgets.textContent()).toContain('$25.00');
    await checkPage(page, 'budgets-team-lead');

    await navigation.getByRole('link', { name: 'Virtual keys' }).click();
    const keys = page.getByRole('region', { name: 'Keys' });
    await expect.poll(() => keys.textContent()).toContain('alpha-bot');
    expect(await keys.textContent()).not.toContain('laptop');
    await keys.getByRole('button', { name: 'Rotate alpha-bot' }).waitFor();

    // The organisation's own pages stay closed, in the app and in the API.
    await page.goto(`${suite.server.url}/providers`);
    await page.getByText('Your role does not include this page').waitFor();
  }, 90_000);
});
