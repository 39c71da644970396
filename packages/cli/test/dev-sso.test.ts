import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents, users } from '../../server/src/store/schema.js';
import {
  eventually,
  type QuickStartGateway,
  startAddressableGatehouse,
  startQuickStartGateway,
  type TestGatehouse,
} from '../../server/test/support/harness.js';
import { CookieBrowser, hiddenValue } from './cookie-browser.js';
import { runCli, scratchHome, startCli, waitForOutput } from './support.js';

/**
 * A newcomer's first minute: a server started with GATEHOUSE_DEV_SSO, `gatehouse login` by
 * device code, the built-in development identity provider's account picker in a browser, and a
 * personal key whose calls are the picked person's. No identity provider process of any kind.
 */

describe('the development identity provider (GATEHOUSE_DEV_SSO)', () => {
  let gateway: QuickStartGateway | undefined;
  let server: TestGatehouse;

  beforeAll(async () => {
    gateway = await startQuickStartGateway(
      { GATEHOUSE_DEV_SSO: 'alice@example.com,bob@example.com' },
      { addressable: true },
    );
    server = gateway.server;
  });
  afterAll(() => gateway?.close());

  it('signs a listed person in with gatehouse login, and their key calls the gateway as them', async () => {
    const home = scratchHome();
    const login = startCli(['login', '--server', server.url, '--no-browser'], { GATEHOUSE_HOME: home });
    const [verificationUrl] = await waitForOutput(
      login,
      /^http:\/\/\S+\/api\/auth\/cli\/device\?user_code=\S+$/m,
    );

    // The person opens the address: no session yet, so SSO sends them to the development
    // provider, whose interaction page lists the configured people.
    const browser = new CookieBrowser();
    const picker = await browser.visit(verificationUrl);
    expect(picker.status, browser.trail.join(' → ')).toBe(200);
    expect(picker.url.pathname).toMatch(/^\/api\/dev-idp\/interaction\//);
    expect(picker.html).toContain('alice@example.com');
    expect(picker.html).toContain('bob@example.com');

    // Picking Bob goes back through the OIDC callback to the approval page, signed in as Bob.
    const action = /<form method="post" action="([^"]+)"/.exec(picker.html)?.[1];
    const approval = await browser.submit(picker, action ?? '', { email: 'bob@example.com' });
    expect(approval.status, browser.trail.join(' → ')).toBe(200);
    expect(approval.url.pathname).toBe('/api/auth/cli/device');
    expect(approval.html).toContain('bob@example.com');
    const approved = await browser.submit(approval, '/api/auth/cli/device', {
      user_code: hiddenValue(approval.html, 'user_code'),
      csrf_token: hiddenValue(approval.html, 'csrf_token'),
      decision: 'approve',
    });
    expect(approved.html).toContain('Device approved');

    const result = await login.done;
    expect(result.stderr).toContain('as bob@example.com');
    expect(result.code).toBe(0);

    const { key } = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8'));
    const call = await fetch(`${server.url}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(call.status).toBe(200);
    const requestId = call.headers.get('x-gatehouse-request-id') as string;

    const { db } = server.gatehouse.storage;
    const [bob] = await db.select().from(users).where(eq(users.email, 'bob@example.com'));
    expect(bob).toBeDefined();
    const events = await eventually(
      async () => {
        await server.flushUsage();
        return db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId));
      },
      (rows) => rows.length > 0,
    );
    expect(events[0]?.principalId).toBe(bob?.id);

    // The provider remembers Bob, yet asks again at the next sign-in: Alice can be tried next.
    const again = await browser.visit(`${server.url}/api/auth/sso/login`);
    expect(again.url.pathname).toMatch(/^\/api\/dev-idp\/interaction\//);
    expect(again.html).toContain('alice@example.com');
  }, 60_000);

  it('refuses an address that was not listed', async () => {
    const browser = new CookieBrowser();
    const picker = await browser.visit(`${server.url}/api/auth/sso/login`);
    expect(picker.url.pathname).toMatch(/^\/api\/dev-idp\/interaction\//);
    const action = /<form method="post" action="([^"]+)"/.exec(picker.html)?.[1];
    const refused = await browser.submit(picker, action ?? '', { email: 'mallory@example.com' });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('Pick one of the listed addresses');
  });
});

describe('gatehouse login against a server with no single sign-on', () => {
  let server: TestGatehouse | undefined;
  beforeAll(async () => {
    server = await startAddressableGatehouse();
  });
  afterAll(() => server?.close());

  it('says so at once, with the settings to set, and exits non-zero', async () => {
    const started = Date.now();
    const run = await runCli(['login', '--server', server?.url ?? '', '--no-browser'], {
      GATEHOUSE_HOME: scratchHome(),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('has no single sign-on set up yet');
    for (const setting of ['GATEHOUSE_OIDC_ISSUER', 'PUT /api/admin/sso/oidc', 'GATEHOUSE_DEV_SSO']) {
      expect(run.stderr).toContain(setting);
    }
    expect(run.stderr).not.toContain('To sign in, open this address');
  });

  it('says so to the browser sign-in too, instead of a page that cannot sign anyone in', async () => {
    const login = startCli(['login', '--web', '--no-browser', '--server', server?.url ?? ''], {
      GATEHOUSE_HOME: scratchHome(),
    });
    const [authorizeUrl] = await waitForOutput(login, /^http:\/\/\S+\/api\/auth\/cli\/authorize\?\S+$/m);
    const answer = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(answer.status).toBe(303);
    // The browser follows the redirect back to the CLI's listener.
    await fetch(answer.headers.get('location') as string);
    const result = await login.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('GATEHOUSE_DEV_SSO');
  });
});
