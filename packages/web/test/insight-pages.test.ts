import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollToken, startDeviceAuthorization } from '../../server/test/support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway } from '../../server/test/support/harness.js';
import { usd } from '../src/format.js';
import { checkPage, launchBrowser, openTab, signInAs, type TestTab } from './support/browser.js';

const CLAUDE_CODE = 'claude-cli/2.0.14 (external, cli)';
const CODEX = 'codex_cli_rs/0.46.0 (Debian 12; x86_64) xterm-256color';

/**
 * What the governance home and the personal page tell: today's and this month's spend against the
 * previous period, who spends most with which model and tool, each provider's health (a failing
 * one shown skipped), spend over time by the grouping chosen, what is left to set up; and on my
 * page, my calls, newest first, a page at a time.
 */
describe('the governance home and my activity', () => {
  let gateway: QuickStartGateway;
  let browser: Browser;
  let tab: TestTab;

  beforeAll(async () => {
    [gateway, browser] = await Promise.all([
      startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'owner@example.com' }, { addressable: true }),
      launchBrowser(),
    ]);
  }, 30_000);
  afterAll(async () => {
    expect(tab?.problems ?? []).toEqual([]);
    await browser?.close();
    await gateway?.close();
  });

  const chat = (key: string, model: string, userAgent: string) =>
    fetch(`${gateway.server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'user-agent': userAgent,
      },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('shows spend, top spenders with their model and tool, provider health and spend over time', async () => {
    const { server, mock, setup } = gateway;
    for (const userAgent of [CLAUDE_CODE, CLAUDE_CODE, CODEX]) {
      expect((await chat(setup.key, 'gpt-4o-mini', userAgent)).status).toBe(200);
    }
    expect((await chat(setup.key, 'claude-sonnet-4-6', CODEX)).status).toBe(200);
    // mock-openai fails until its circuit opens: the only provider serving gpt-4o-mini.
    mock.setDefault({ status: 500 });
    for (let attempt = 0; attempt < 6; attempt++) await chat(setup.key, 'gpt-4o-mini', CLAUDE_CODE);
    mock.reset();
    await server.flushUsage();

    tab = await openTab(browser);
    const { page } = tab;
    await signInAs(tab, server, 'owner@example.com', 'owner');
    await page.goto(`${server.url}/governance`);

    const summary = await server.admin<{ spend: { today: { costUsd: number } } }>(
      'GET',
      '/governance/summary',
    );
    expect(summary.spend.today.costUsd).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('spend-today').textContent())
      .toBe(usd(summary.spend.today.costUsd));
    expect(await page.getByText('nothing spent yesterday by this time').count()).toBe(1);

    const spenders = page.getByRole('region', { name: 'Top spenders this month' });
    await expect.poll(() => spenders.textContent()).toContain('laptopservice key');
    // Three of its four served calls were gpt-4o-mini, most of them from Claude Code.
    expect(await spenders.textContent()).toContain('gpt-4o-miniClaude Code');

    const health = page.getByRole('region', { name: 'Provider health' });
    await expect
      .poll(() => health.textContent())
      .toMatch(/mock-openai \(openai\)\d+[1-9]\d* \(\d+ %\).*skipped/);
    expect(await health.textContent()).toMatch(/mock-anthropic \(anthropic\)10 \(0 %\).*serving/);

    const overTime = page.getByRole('region', { name: 'Spend over time' });
    await overTime.getByRole('img', { name: /^Cost per day by team/ }).waitFor();
    await overTime.getByText('Model', { exact: true }).click();
    const byModel = overTime.getByRole('img', { name: /^Cost per day by model/ });
    await expect
      .poll(() => byModel.getAttribute('aria-label'))
      .toMatch(/gpt-4o-mini.*claude-sonnet-4-6|claude-sonnet-4-6.*gpt-4o-mini/);
    await checkPage(page, 'governance-home');

    // What is left to set up links to where it is done.
    const checklist = page.getByRole('region', { name: 'Setup checklist' });
    expect(await checklist.textContent()).toContain('Create a SCIM token for provisioning: to do');
    await checklist.getByRole('link', { name: 'Create a SCIM token for provisioning' }).click();
    await page.waitForURL(`${server.url}/identity`);
  }, 90_000);

  it('lists my recent requests a page at a time, with the tool and the status of each', async () => {
    const { server } = gateway;
    const { page } = tab;
    const device = await startDeviceAuthorization(server, 'owner-laptop');
    await page.goto(device.verification_uri_complete);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Device approved').waitFor();
    const token = await pollToken(server, device.device_code);
    const key = token.body.access_token as string;
    for (let call = 0; call < 22; call++) {
      expect((await chat(key, 'claude-haiku-4-5', call % 2 ? CODEX : CLAUDE_CODE)).status).toBe(200);
    }
    expect((await chat(key, 'no-such-model', CLAUDE_CODE)).status).toBeGreaterThanOrEqual(400);
    await server.flushUsage();

    await page.goto(`${server.url}/me`);
    const requests = page.getByRole('region', { name: 'My recent requests' });
    await expect.poll(() => requests.textContent()).toContain('20 shown');
    // Newest first: the refused call leads, with its status and code.
    const firstRow = requests.getByRole('row').nth(1);
    expect(await firstRow.textContent()).toMatch(/no-such-modelClaude Code4\d\d [a-z_]+/);
    await checkPage(page, 'me-activity');
    await requests.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => requests.textContent()).toContain('23 shown');
    expect(await requests.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    const mine = page.getByRole('region', { name: 'My spend this month' });
    await expect.poll(() => mine.textContent()).toContain('Codex');
    await mine.getByRole('img', { name: /^My cost per day by tool/ }).waitFor();
    expect(
      await mine.getByRole('img', { name: /^My cost per day by tool/ }).getAttribute('aria-label'),
    ).toMatch(/Claude Code.*Codex|Codex.*Claude Code/);
  }, 90_000);
});
