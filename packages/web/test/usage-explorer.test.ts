import { beforeAll, describe, expect, it } from 'vitest';
import { type QuickStart, quickStart } from '../../server/test/support/harness.js';
import { checkPage, signIn, signInAs, type TestTab } from './support/browser.js';
import { useBrowserSuite } from './support/suite.js';

/**
 * The usage explorer answers "who spends what with which tool, and when": calls made through the
 * gateway with Claude Code's and Codex's own User-Agents show up grouped by coding tool, in the
 * cost-over-time chart, and narrowed by the tool filter, which the CSV export follows.
 */
describe('the usage explorer', () => {
  const CLAUDE_CODE = 'claude-cli/2.1.197 (external, cli)';
  const CODEX = 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm-256color';
  let tab: TestTab;
  let setup: QuickStart;

  const suite = useBrowserSuite(
    { GATEHOUSE_DEV_SSO: 'owner@example.com,member@example.com' },
    { mock: true },
  );
  beforeAll(async () => {
    setup = await quickStart(suite.server, suite.mock);
  });

  const chatAs = (userAgent: string) =>
    fetch(`${suite.server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${setup.key}`,
        'content-type': 'application/json',
        'user-agent': userAgent,
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('groups calls by coding tool, charts them over time and filters by tool', async () => {
    for (const userAgent of [CLAUDE_CODE, CLAUDE_CODE, CODEX]) {
      expect((await chatAs(userAgent)).status).toBe(200);
    }
    await suite.server.flushUsage();
    tab = await suite.openTab();
    const { page } = tab;
    await signInAs(tab, suite.server, 'owner@example.com', 'owner');

    await page.goto(`${suite.server.url}/usage?groupBy=tool`);
    const byTool = page.getByRole('region', { name: 'By coding tool' });
    // Each tool by its own name, not the id it is stored under ("claude-code").
    await expect.poll(() => byTool.textContent()).toContain('Claude Code');
    const rows = byTool.getByRole('row');
    await expect.poll(() => rows.count()).toBe(3); // the header and one row per tool
    expect(await byTool.getByRole('row', { name: /Claude Code/ }).textContent()).toMatch(/Claude Code\s*2/);
    expect(await byTool.getByRole('row', { name: /Codex/ }).textContent()).toMatch(/Codex\s*1/);
    expect(await byTool.textContent()).not.toContain('claude-code');
    await expect.poll(() => page.getByTestId('total-Requests').textContent()).toBe('3');

    // The chart is one image that names what it shows, today's calls included.
    const chart = page
      .getByRole('region', { name: 'Cost over time' })
      .getByRole('img', { name: /^Cost per/ });
    await expect.poll(() => chart.getAttribute('aria-label')).toMatch(/^Cost per day by coding tool: /);
    const chartLabel = (await chart.getAttribute('aria-label')) ?? '';
    expect(chartLabel).toContain('Claude Code');
    expect(chartLabel).toContain('Codex');
    await checkPage(page, 'usage-by-tool');

    // Today by the hour, narrowed to Codex: the totals, the table and the export follow.
    await page.goto(`${suite.server.url}/usage?groupBy=model&period=today&tool=codex`);
    await expect.poll(() => page.getByTestId('total-Requests').textContent()).toBe('1');
    await expect.poll(() => page.getByRole('textbox', { name: 'Coding tool' }).inputValue()).toBe('Codex');
    await expect.poll(() => chart.getAttribute('aria-label')).toMatch(/^Cost per hour by model: gpt-4o-mini/);
    const byModel = page.getByRole('region', { name: 'By model' });
    await expect.poll(() => byModel.textContent()).toContain('gpt-4o-mini');
    const download = page.waitForEvent('download');
    await byModel.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await new Response(
      (await (await download).createReadStream()) as unknown as ReadableStream,
    ).text();
    const [header, line, end] = csv.split('\n');
    expect(header?.split(',')[2]).toBe('requests');
    expect(line?.split(',').slice(0, 3)).toEqual(['"gpt-4o-mini"', '"gpt-4o-mini"', '"1"']);
    expect(end).toBe('');
    await checkPage(page, 'usage-filtered-by-tool');
  }, 60_000);

  it('shows a person their own calls by tool, and nobody else’s', async () => {
    const own = await suite.openTab();
    const { page } = own;
    await signIn(own, suite.server.url, 'member@example.com', '/me');
    await page.goto(`${suite.server.url}/usage?groupBy=tool`);
    await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    await page.getByText('Your own calls through the gateway.').waitFor();
    // The owner's service key made three calls; this person made none.
    await expect.poll(() => page.getByTestId('total-Requests').textContent()).toBe('0');
    await page.getByText('No calls match').waitFor();
    await page.getByText('No spend in this period').waitFor();
    expect(own.problems).toEqual([]);
    await own.context.close();
  }, 40_000);
});
