import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_LIMITS } from '../src/control/cli-auth/attempt-limits.js';
import { type Browser, hiddenField, oauthPost, signedInBrowser } from './support/cli-sign-in.js';
import { type QuickStartGateway, startQuickStartGateway, type TestGatehouse } from './support/harness.js';

/** RFC 8628 §5.1: asking for device codes and guessing user codes are limited, with 429 and retry-after. */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let browser: Browser;

beforeAll(async () => {
  gateway = await startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'dev@example.com' }, { addressable: true });
  server = gateway.server;
  browser = await signedInBrowser(server, 'guesser@example.com');
});
afterAll(() => gateway?.close());

describe('sign-in attempt limits', () => {
  it('stops a signed-in person guessing user codes, on the page and on the form', async () => {
    // One real code, whose approval page gives the form's CSRF token (and counts as one entry).
    const { body: device } = await oauthPost(server, '/api/auth/cli/device/code', {
      client_id: 'gatehouse-cli',
    });
    const approval = await browser.get(`/api/auth/cli/device?user_code=${device.user_code}`);
    expect(approval.status).toBe(200);
    const csrfToken = hiddenField(await approval.text(), 'csrf_token');
    const statuses: number[] = [];
    for (let guess = 1; guess < SIGN_IN_LIMITS.codeEntriesPerPerson; guess++) {
      statuses.push(
        (await browser.get(`/api/auth/cli/device?user_code=WRONG${String(guess).padStart(3, '0')}`)).status,
      );
    }
    expect(statuses.every((status) => status === 404)).toBe(true);
    const page = await browser.get('/api/auth/cli/device?user_code=ANOTHER1');
    expect(page.status).toBe(429);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await page.text()).toContain('Too many codes tried');
    // Even the right code is refused once the allowance is spent: guessing gains nothing.
    const form = await browser.postForm('/api/auth/cli/device', {
      user_code: device.user_code,
      csrf_token: csrfToken,
      decision: 'approve',
    });
    expect(form.status).toBe(429);
  });

  it('refuses device codes past the per-address allowance, in OAuth’s shape with retry-after', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < SIGN_IN_LIMITS.deviceCodesPerAddress + 3; attempt++) {
      const { status } = await oauthPost(server, '/api/auth/cli/device/code', { client_id: 'gatehouse-cli' });
      statuses.push(status);
    }
    // The allowance refills continuously (one code every two seconds), so on a slow machine a
    // little more than the limit may pass; never less (the test before spent one code).
    const firstRefusal = statuses.indexOf(429);
    expect(firstRefusal).toBeGreaterThanOrEqual(SIGN_IN_LIMITS.deviceCodesPerAddress - 1);
    expect(statuses.slice(0, firstRefusal).every((status) => status === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const refused = await fetch(`${server.url}/api/auth/cli/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=gatehouse-cli',
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ error: 'slow_down' });
  });
});
