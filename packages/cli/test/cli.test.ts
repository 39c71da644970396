import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  decideLoopback,
  hiddenField,
  signedInBrowser,
} from '../../server/test/support/cli-sign-in.js';
import {
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from '../../server/test/support/harness.js';
import { runCli, scratchHome, startCli, waitForOutput } from './support.js';

/** The `gatehouse` command against a real server on loopback: sign-in, keys, wrappers, admin. */
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let browser: Browser;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  // Sign-in is refused where no identity provider is set up; these tests sign people in
  // directly (signedInBrowser), so the development provider stands in for one.
  gateway = await startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'dev@example.com' }, { addressable: true });
  server = gateway.server;
  browser = await signedInBrowser(server, 'erin@example.com');
  home = scratchHome();
  env = { GATEHOUSE_HOME: home };
});
afterAll(() => gateway?.close());

function chat(key: string) {
  return fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

const credentials = () => JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8'));

/** What the person does in their browser with the address the CLI printed. */
async function approveInBrowser(verificationUrl: string) {
  const url = new URL(verificationUrl);
  const page = await browser.get(url.pathname + url.search);
  const html = await page.text();
  const approved = await browser.postForm('/api/auth/cli/device', {
    user_code: hiddenField(html, 'user_code'),
    csrf_token: hiddenField(html, 'csrf_token'),
    decision: 'approve',
  });
  expect(approved.status).toBe(200);
}

describe('gatehouse login (device code)', () => {
  it('prints the address on a line of its own, waits for approval, and stores credentials 0600', async () => {
    const login = startCli(['login', '--server', server.url, '--no-browser'], env);
    const [line, verificationUrl] = await waitForOutput(
      login,
      /^(http:\/\/\S+\/api\/auth\/cli\/device\?user_code=(\S+))$/m,
    );
    expect(line).toBe(verificationUrl);
    await waitForOutput(
      login,
      /check that it shows the code [BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/,
    );
    await approveInBrowser(verificationUrl as string);
    const result = await login.done;
    expect(result.stderr).toContain('Signed in to Default organisation as erin@example.com');
    expect(result.code).toBe(0);

    const file = join(home, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = credentials();
    expect(saved).toMatchObject({ server: server.url, user: { email: 'erin@example.com' } });
    expect(saved.refreshToken).toMatch(/^ghr_/);
    expect((await chat(saved.key)).status).toBe(200);
  });

  it('says who is signed in, and what their budgets and providers look like', async () => {
    const who = await runCli(['whoami', '--json'], env);
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({
      user: { email: 'erin@example.com' },
      organization: { name: 'Default organisation' },
      personalProjectId: expect.stringMatching(/^proj_/),
    });
    const human = await runCli(['whoami'], env);
    expect(human.stdout).toContain('erin@example.com');
    expect(human.stdout).toContain('Default organisation');

    const budget = await server.admin('POST', '/budgets', {
      scope: 'user',
      scopeId: browser.user.id,
      limitUsd: 10,
      window: 'month',
      action: 'block',
      name: 'erin monthly',
    });
    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/erin monthly: \$0\.\d\d of \$10\.00 spent, \$\d+\.\d\d left, resets /);
    expect(status.stdout).toContain('mock-openai (openai): available');
    await server.admin('DELETE', `/budgets/${budget.id}`);
  });

  it('signs in with --web: the browser comes back to a one-shot listener on 127.0.0.1', async () => {
    const webHome = scratchHome();
    const login = startCli(['login', '--web', '--no-browser', '--server', server.url], {
      GATEHOUSE_HOME: webHome,
    });
    const [authorizeUrl] = await waitForOutput(login, /^http:\/\/\S+\/api\/auth\/cli\/authorize\?\S+$/m);
    const authorize = new URL(authorizeUrl);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const approved = await decideLoopback(browser, authorizeUrl, 'approve');
    expect(approved.status).toBe(303);
    // The browser follows the redirect to the CLI's listener.
    const landing = await fetch(approved.headers.get('location') as string);
    expect(await landing.text()).toContain('Signed in');
    const result = await login.done;
    expect(result.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(webHome, 'credentials.json'), 'utf8'));
    expect((await chat(saved.key)).status).toBe(200);
  });

  it('refuses plain http to a non-loopback server', async () => {
    const refused = await runCli(['login', '--server', 'http://gatehouse.example.com'], {
      GATEHOUSE_HOME: scratchHome(),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Refusing plain http://');
  });
});

describe('keys that renew themselves', () => {
  it('hands every concurrent caller the same fresh key from one refresh', async () => {
    const before = credentials();
    // The key is about to run out: every caller now wants a new one at the same moment.
    writeFileSync(
      join(home, 'credentials.json'),
      JSON.stringify({ ...before, keyExpiresAt: new Date(Date.now() + 1_000).toISOString() }),
    );
    chmodSync(join(home, 'credentials.json'), 0o600);
    const runs = await Promise.all(Array.from({ length: 5 }, () => runCli(['token'], env)));
    const keys = new Set(runs.map((run) => run.stdout.trim()));
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0, 0]);
    expect(keys.size).toBe(1);
    const [fresh] = [...keys] as [string];
    expect(fresh).not.toBe(before.key);
    // One refresh, not five: a second use of a spent refresh token would have revoked the sign-in.
    expect((await chat(fresh)).status).toBe(200);
    expect(credentials().refreshToken).not.toBe(before.refreshToken);
    expect(statSync(join(home, 'credentials.json')).mode & 0o777).toBe(0o600);
  });
});

describe('running tools', () => {
  /** A stand-in `claude` on PATH that shows what it was given, reads stdin and exits 7. */
  function fakeTool(): string {
    const bin = join(scratchHome(), 'bin');
    mkdirSync(bin);
    const script = join(bin, 'claude');
    writeFileSync(
      script,
      `#!/bin/sh\necho "args:$*"\necho "base:$ANTHROPIC_BASE_URL"\necho "token:$ANTHROPIC_AUTH_TOKEN"\necho "apikey:\${ANTHROPIC_API_KEY-unset}"\necho "stdin:$(cat)"\nexit 7\n`,
    );
    chmodSync(script, 0o755);
    return bin;
  }

  it('passes arguments, stdin and the exit code through, with the gateway and a key injected', async () => {
    const bin = fakeTool();
    const run = await runCli(
      ['claude', '-p', 'say hi', '--model', 'claude-sonnet-4-6'],
      {
        ...env,
        PATH: `${bin}:${process.env.PATH}`,
        ANTHROPIC_API_KEY: 'sk-ant-personal-should-not-leak',
      },
      { input: 'from stdin' },
    );
    expect(run.code).toBe(7);
    expect(run.stdout).toContain('-p say hi --model claude-sonnet-4-6');
    expect(run.stdout).toContain(`base:${server.url}`);
    // The key comes from the apiKeyHelper (renewed on a 401), never from a variable that wins over it.
    expect(run.stdout).toContain('token:\n');
    expect(run.stdout).toContain('apikey:unset');
    expect(run.stdout).toContain('stdin:from stdin');
    expect(run.stdout).toContain('apiKeyHelper');
  });

  it('says how to install a tool that is missing', async () => {
    const run = await runCli(['codex', 'exec', 'hi'], { ...env, PATH: '/nonexistent' });
    expect(run.code).toBe(127);
    expect(run.stderr).toContain('Codex is not installed');
    expect(run.stderr).toContain('npm install -g @openai/codex');
  });

  it('says the budget is used up instead of starting a tool that would be refused', async () => {
    const budget = await server.admin('POST', '/budgets', {
      scope: 'user',
      scopeId: browser.user.id,
      limitUsd: 0.000001,
      window: 'day',
      action: 'block',
    });
    try {
      await chat(credentials().key); // spend past the limit
      await server.flushUsage();
      const run = await runCli(['claude', '-p', 'hi'], { ...env, PATH: `${fakeTool()}:${process.env.PATH}` });
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/your user budget is used up, so Claude Code would be refused\. It resets /);
    } finally {
      await server.admin('DELETE', `/budgets/${budget.id}`);
    }
  });

  it('gives tools that cannot renew a key one with nearly its whole life ahead', async () => {
    const before = credentials();
    // Half of the key's day is gone: fine for Claude Code's helper, too short for a pasted key.
    const halfway = {
      ...before,
      savedAt: new Date(Date.now() - 43_200_000).toISOString(),
      keyExpiresAt: new Date(Date.now() + 43_200_000).toISOString(),
    };
    writeFileSync(join(home, 'credentials.json'), JSON.stringify(halfway), { mode: 0o600 });
    expect((await runCli(['token'], env)).stdout.trim()).toBe(before.key);
    const exports = await runCli(['env', 'gemini', '--json'], env);
    const fresh = JSON.parse(exports.stdout);
    expect(fresh.env.GEMINI_API_KEY).not.toBe(before.key);
    expect(Date.parse(fresh.keyExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
  });

  it('prints shell exports and Cursor settings', async () => {
    const exports = await runCli(['env', 'gemini'], env);
    expect(exports.stdout).toContain(`export GOOGLE_GEMINI_BASE_URL='${server.url}'`);
    expect(exports.stdout).toMatch(/export GEMINI_API_KEY='gth_/);
    const cursor = await runCli(['cursor'], env);
    expect(cursor.stdout).toContain(`Override OpenAI Base URL   ${server.url}/api/v1`);
  });

  it('answers "not signed in" with exit code 3', async () => {
    const run = await runCli(['claude', '-p', 'hi'], { GATEHOUSE_HOME: scratchHome() });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('You are not signed in.');
    expect(run.stderr).toContain('gatehouse login');
  });

  it('answers "server unreachable" with exit code 5, for sign-in and the admin API alike', async () => {
    // A port nothing listens on: the connection is refused at once.
    const closed = await closedLoopbackPort();
    const login = await runCli(['login', '--server', `http://127.0.0.1:${closed}`], {
      GATEHOUSE_HOME: scratchHome(),
    });
    expect(login.code).toBe(5);
    expect(login.stderr).toContain(`Cannot reach http://127.0.0.1:${closed}`);
    const admin = await runCli(['admin', '--server', `http://127.0.0.1:${closed}`, 'teams', 'list'], {
      GATEHOUSE_HOME: scratchHome(),
      GATEHOUSE_ADMIN_TOKEN: 'test-admin-token-0123456789',
    });
    expect(admin.code).toBe(5);
  });
});

/** A loopback port that was free a moment ago and is closed now. */
async function closedLoopbackPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

describe('gatehouse admin', () => {
  it('lists and creates through the admin API, as a table or as JSON', async () => {
    const adminEnv = { ...env, GATEHOUSE_ADMIN_TOKEN: 'test-admin-token-0123456789' };
    const table = await runCli(['admin', 'providers', 'list'], adminEnv);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^id\s+name\s+type/m);
    expect(table.stdout).toContain('mock-openai');
    const created = await runCli(['admin', '--json', 'projects', 'add', '--name', 'agents'], adminEnv);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'agents', id: expect.stringMatching(/^proj_/) });
    const refused = await runCli(['admin', 'providers', 'list'], {
      ...env,
      GATEHOUSE_ADMIN_TOKEN: 'wrong-token-0123456789',
    });
    expect(refused.code).toBe(3);
  });

  it("prints Claude Code's managed-settings file for this deployment", async () => {
    const run = await runCli(['admin', 'claude-settings'], env);
    expect(JSON.parse(run.stdout)).toEqual({ forceLoginMethod: 'gateway', forceLoginGatewayUrl: server.url });
  });
});

/**
 * The update and delete subcommands, one resource each. What a test only stands on is made
 * through the admin API directly; the CLI runs what is under test (each run is a process).
 */
describe('gatehouse admin update and delete', () => {
  const adminEnv = () => ({ ...env, GATEHOUSE_ADMIN_TOKEN: 'test-admin-token-0123456789' });
  const json = async (args: string[]) => {
    const run = await runCli(['admin', '--json', ...args], adminEnv());
    expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout);
  };
  const newProject = (name: string) => server.admin('POST', '/projects', { name });

  it('renames a project and clears its routing policy', async () => {
    const project = await newProject('to be renamed');
    const renamed = await json(['projects', 'update', project.id, '--name', 'renamed', '--policy', 'none']);
    expect(renamed).toMatchObject({ id: project.id, name: 'renamed', routingPolicyId: null });
  });

  it('creates a key, then renames it and gives it an expiry', async () => {
    const project = await newProject('keys');
    const key = await json(['keys', 'create', '--project', project.id, '--name', 'ci']);
    const expiring = await json(['keys', 'update', key.id, '--name', 'ci runner', '--expires-in', '3600']);
    expect(expiring).toMatchObject({ name: 'ci runner', expiresAt: expect.any(String) });
  });

  it("sets and changes a project's budget and rate limit", async () => {
    const project = await newProject('limits');
    const budget = await json([
      'budgets',
      'set',
      '--scope',
      'project',
      '--scope-id',
      project.id,
      '--limit',
      '5',
      '--window',
      'day',
    ]);
    expect((await json(['budgets', 'update', budget.id, '--limit', '7.5'])).limitUsd).toBe(7.5);
    const limit = await json([
      'rate-limits',
      'set',
      '--scope',
      'project',
      '--scope-id',
      project.id,
      '--rpm',
      '60',
    ]);
    expect(await json(['rate-limits', 'update', limit.id, '--rpm', 'none', '--tpm', '1000'])).toMatchObject({
      requestsPerMinute: null,
      tokensPerMinute: 1000,
    });
  });

  it('refuses to delete a project still in use, says what uses it, and deletes it once freed', async () => {
    const project = await newProject('in use');
    const key = await server.admin('POST', '/virtual-keys', { projectId: project.id, name: 'live' });
    const budget = await server.admin('POST', '/budgets', {
      scope: 'project',
      scopeId: project.id,
      limitUsd: 5,
      window: 'day',
      action: 'block',
    });
    const limit = await server.admin('POST', '/rate-limits', {
      scope: 'project',
      scopeId: project.id,
      requestsPerMinute: 60,
    });
    const refused = await runCli(['admin', 'projects', 'delete', project.id], adminEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(key.id);
    for (const args of [
      ['keys', 'revoke', key.id],
      ['budgets', 'delete', budget.id],
      ['rate-limits', 'delete', limit.id],
      ['projects', 'delete', project.id],
    ]) {
      const run = await runCli(['admin', ...args], adminEnv());
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
    const projects = await server.admin('GET', '/projects');
    expect(projects.data.map((each: { id: string }) => each.id)).not.toContain(project.id);
  });

  it('adds, renames and deletes a team, and reads usage as JSON', async () => {
    const team = await json(['teams', 'add', '--name', 'cli team']);
    expect((await json(['teams', 'rename', team.id, '--name', 'cli people'])).name).toBe('cli people');
    expect((await runCli(['admin', 'teams', 'delete', team.id], adminEnv())).stdout).toContain('deleted');
    const usage = await json(['usage', '--status', 'served']);
    expect(usage.groupBy).toBe('model');
  });
});

describe('gatehouse admin as the signed-in person', () => {
  it('administers with the roles bound to them, and nothing more', async () => {
    // Signed in (above), no token: the person's own roles decide. A member has no admin rights.
    const refused = await runCli(['admin', 'teams', 'list'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('teams:view');

    const [erin] = (await server.admin('GET', '/users?email=erin%40example.com')).data;
    const adminEnv = { ...env, GATEHOUSE_ADMIN_TOKEN: 'test-admin-token-0123456789' };
    const role = await runCli(
      [
        'admin',
        '--json',
        'roles',
        'add',
        '--name',
        'team keeper',
        '--permissions',
        'teams:view,teams:manage',
      ],
      adminEnv,
    );
    expect(role.code).toBe(0);
    const bound = await runCli(
      ['admin', '--json', 'bindings', 'add', '--role', JSON.parse(role.stdout).id, '--user', erin.id],
      adminEnv,
    );
    expect(bound.code).toBe(0);
    expect(JSON.parse(bound.stdout)).toMatchObject({
      subject: { kind: 'user', id: erin.id },
      scope: { kind: 'organization' },
    });

    const made = await runCli(['admin', '--json', 'teams', 'add', '--name', 'erin made this'], env);
    expect(made.code).toBe(0);
    const listed = await runCli(['admin', 'teams', 'list'], env);
    expect(listed.stdout).toContain('erin made this');
    // The role gave teams, not providers.
    const providers = await runCli(['admin', 'providers', 'list'], env);
    expect(providers.code).toBe(1);
    expect(providers.stderr).toContain('providers:view');

    const removed = await runCli(['admin', 'bindings', 'remove', JSON.parse(bound.stdout).id], adminEnv);
    expect(removed.stdout).toContain('removed');
    expect((await runCli(['admin', 'teams', 'list'], env)).code).toBe(1);
  });

  it('mints a scoped admin token from the terminal, shown once', async () => {
    const adminEnv = { ...env, GATEHOUSE_ADMIN_TOKEN: 'test-admin-token-0123456789' };
    const team = JSON.parse(
      (await runCli(['admin', '--json', 'teams', 'add', '--name', 'scoped'], adminEnv)).stdout,
    );
    const made = await runCli(
      [
        'admin',
        '--json',
        'tokens',
        'add',
        '--name',
        'ci',
        '--permissions',
        'budgets:manage',
        '--scope',
        `team:${team.id}`,
      ],
      adminEnv,
    );
    expect(made.code).toBe(0);
    const token = JSON.parse(made.stdout);
    expect(token.token).toMatch(/^gha_/);
    expect(token.scope).toEqual({ kind: 'team', id: team.id });
    const listed = await runCli(['admin', 'tokens', 'list'], adminEnv);
    expect(listed.stdout).toContain(`team:${team.id}`);
    expect(listed.stdout).not.toContain(token.token);
  });
});

describe('gatehouse logout', () => {
  it("ends this machine's sign-in on the server and forgets it", async () => {
    const { key } = credentials();
    const run = await runCli(['logout'], env);
    expect(run.code).toBe(0);
    expect((await chat(key)).status).toBe(401);
    expect((await runCli(['whoami'], env)).code).toBe(3);
  });
});
