import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, gt } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { organizations, usageEvents } from '../../server/src/store/schema.js';
import { MOCK_UPSTREAM_API_KEY, type MockUpstream } from '../../server/test/mock-upstream/mock-upstream.js';
import { type Browser, hiddenField, signedInBrowser } from '../../server/test/support/cli-sign-in.js';
import {
  type QuickStartGateway,
  startQuickStartGateway,
  type TestGatehouse,
} from '../../server/test/support/harness.js';
import { installRealClients, type RealClients } from './real-clients.js';
import { CLI, scratchHome, startCli, waitForOutput } from './support.js';

/**
 * The real Claude Code, Codex and Gemini CLI from npm, each run through `gatehouse <tool>` the way
 * a person runs it: the built CLI, a signed-in GATEHOUSE_HOME, a fresh HOME, a scratch working
 * directory, and a clean environment (no test runner's variables), against a gateway on a mock
 * upstream. Only the flags a person would pass themselves are added, plus a little offline
 * hygiene, marked where it is set. Slow (real binaries), so only in the embedded-storage pass.
 */

const INSTALL_TIMEOUT_MS = 11 * 60 * 1000;
/** One tool run, however it goes. */
const RUN_TIMEOUT_MS = 60_000;
/** A personal key's life in the refresh tests: shorter than the tool run that uses it. */
const SHORT_KEY_SECONDS = 6;
/** What the tool waits for between its two model calls in the refresh tests. */
const SLEEP_SECONDS = SHORT_KEY_SECONDS + 3;

let clients: RealClients;
let gateway: QuickStartGateway | undefined;
let server: TestGatehouse;
let mock: MockUpstream;
let browser: Browser;
/** A GATEHOUSE_HOME signed in as the person, with keys of the normal (day-long) life. */
let home: string;
/** Every HOME a tool ran with (the tools fill them with sessions and caches), removed at the end. */
const userHomes: string[] = [];

/** `gatehouse login` by device code, approved in the person's browser; returns the signed-in home. */
async function signIn(): Promise<string> {
  const signedInHome = scratchHome();
  const login = startCli(['login', '--server', server.url, '--no-browser'], { GATEHOUSE_HOME: signedInHome });
  const [, verificationUrl] = await waitForOutput(
    login,
    /^(http:\/\/\S+\/api\/auth\/cli\/device\?user_code=\S+)$/m,
  );
  const url = new URL(verificationUrl as string);
  const page = await (await browser.get(url.pathname + url.search)).text();
  const approved = await browser.postForm('/api/auth/cli/device', {
    user_code: hiddenField(page, 'user_code'),
    csrf_token: hiddenField(page, 'csrf_token'),
    decision: 'approve',
  });
  expect(approved.status).toBe(200);
  expect((await login.done).code).toBe(0);
  return signedInHome;
}

interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * `gatehouse <args…>` in a scratch directory with a fresh HOME and only the variables a person's
 * shell would have: the test runner's own (VITEST, NODE_ENV…) change some tools' behaviour.
 */
function gatehouse(
  args: string[],
  options: { gatehouseHome: string; env?: Record<string, string>; prepareHome?: (home: string) => void },
): Promise<ToolRun> {
  const userHome = mkdtempSync(join(tmpdir(), 'gatehouse-real-home-'));
  userHomes.push(userHome);
  const workdir = join(userHome, 'project');
  mkdirSync(workdir);
  options.prepareHome?.(userHome);
  const env: Record<string, string> = {
    PATH: `${clients.binDir}:${process.env.PATH}`,
    HOME: userHome,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    GATEHOUSE_HOME: options.gatehouseHome,
    // No OS keychain in tests: the refresh token stays in credentials.json, as signIn() left it.
    GATEHOUSE_KEYCHAIN: 'off',
    ...options.env,
  };
  const started = Date.now();
  // Its own process group, so a run that hangs is killed with the tool it started.
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: workdir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  // Non-interactive runs read stdin to its end (Codex says "Reading additional input from stdin").
  child.stdin.end();
  const timer = setTimeout(() => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, RUN_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** What a person with Claude Code's defaults adds on a machine without internet. */
const CLAUDE_OFFLINE = {
  // Offline hygiene only: otherwise Claude Code also resolves api.anthropic.com for its event
  // log. It answers without it too; set so the test makes no outside lookups.
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
};

/** Codex's own flags: `exec` is its non-interactive mode; the rest is offline hygiene. */
const CODEX_EXEC = [
  'exec',
  '--skip-git-repo-check',
  '--ephemeral',
  // Offline hygiene only (Codex answers without them): no analytics (ab.chatgpt.com), no plugin
  // sync (api.github.com), no update check.
  '-c',
  'analytics.enabled=false',
  '--disable',
  'plugins',
  '-c',
  'check_for_update_on_startup=false',
];

/**
 * What a Gemini CLI user's settings hold once they have chosen "Use Gemini API Key" (Gemini CLI
 * saves that answer itself the first time it asks; 0.61 needs it for -p). Usage statistics and
 * telemetry off are offline hygiene.
 */
function geminiUserSettings(userHome: string): void {
  mkdirSync(join(userHome, '.gemini'));
  writeFileSync(
    join(userHome, '.gemini', 'settings.json'),
    JSON.stringify({
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    }),
  );
}

const GEMINI_ENV = {
  // Start-up speed only: without it Gemini CLI relaunches itself in a second Node process.
  GEMINI_CLI_NO_RELAUNCH: 'true',
};

async function latestSequence(): Promise<number> {
  await server.flushUsage();
  const rows = await server.gatehouse.storage.db.select({ sequence: usageEvents.sequence }).from(usageEvents);
  return Math.max(0, ...rows.map((row) => row.sequence));
}

/** The usage events written since `sequence`, oldest first. */
async function eventsSince(sequence: number) {
  await server.flushUsage();
  const rows = await server.gatehouse.storage.db
    .select()
    .from(usageEvents)
    .where(gt(usageEvents.sequence, sequence));
  return rows.sort((a, b) => a.sequence - b.sequence);
}

/** Every call so far is billed to the signed-in person: one row per principal, theirs only. */
async function expectBilledToPerson(atLeast: number): Promise<void> {
  const usage = await server.admin('GET', '/usage?groupBy=principal');
  expect(usage.rows.map((row: { group: string }) => row.group)).toEqual([browser.user.id]);
  expect(usage.rows[0].requests).toBeGreaterThanOrEqual(atLeast);
}

/** The model calls that reached the mock (the gateway's provider health checks aside). */
function modelCalls() {
  return mock.requests.filter((request) => request.method === 'POST');
}

async function setPersonalKeyLifetime(seconds: number): Promise<void> {
  // The admin API's minimum is 300 s; a few seconds keeps the test short.
  await server.gatehouse.storage.db
    .update(organizations)
    .set({ personalKeyTtlSeconds: seconds })
    .where(eq(organizations.id, 'org_default'));
}

describe.skipIf(Boolean(process.env.GATEHOUSE_TEST_POSTGRES_URL))('the real tools through gatehouse', () => {
  beforeAll(async () => {
    clients = await installRealClients();
    // Sign-in is refused where no identity provider is set up; these tests sign people in
    // directly (signedInBrowser), so the development provider stands in for one.
    gateway = await startQuickStartGateway({ GATEHOUSE_DEV_SSO: 'dev@example.com' }, { addressable: true });
    server = gateway.server;
    mock = gateway.mock;
    // The quick start has OpenAI and Anthropic on the mock; Gemini CLI's calls go to a Gemini one.
    const gemini = await server.admin('POST', '/providers', {
      name: 'mock-gemini',
      type: 'gemini',
      baseUrl: mock.url,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['gemini-2.5-flash'],
    });
    await server.admin('POST', '/routing-policies', {
      name: 'three dialects',
      providers: [gateway.setup.openAiProviderId, gateway.setup.anthropicProviderId, gemini.id],
      isDefault: true,
    });
    browser = await signedInBrowser(server, 'rita@example.com');
    home = await signIn();
  }, INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    await gateway?.close();
    for (const userHome of userHomes) rmSync(userHome, { recursive: true, force: true });
  });
  beforeEach(() => mock?.reset());

  it('Claude Code answers -p through gatehouse claude, billed to the person', {
    timeout: 90_000,
  }, async () => {
    mock.setDefault({ text: 'Claude Code reached the mock through Gatehouse.' });
    const since = await latestSequence();
    const run = await gatehouse(['claude', '-p', 'say hi', '--model', 'claude-sonnet-4-6'], {
      gatehouseHome: home,
      env: CLAUDE_OFFLINE,
    });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('Claude Code reached the mock through Gatehouse.');
    const events = await eventsSince(since);
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const event of events) {
      expect(event).toMatchObject({ principalId: browser.user.id, api: 'anthropic-messages', status: 200 });
    }
    await expectBilledToPerson(events.length);
  });

  it('Codex answers exec through gatehouse codex, billed to the person', { timeout: 90_000 }, async () => {
    mock.setDefault({ text: 'Codex reached the mock through Gatehouse.' });
    const since = await latestSequence();
    const run = await gatehouse(['codex', ...CODEX_EXEC, '-m', 'gpt-4o', 'say hi'], { gatehouseHome: home });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('Codex reached the mock through Gatehouse.');
    // The provider the wrapper defined, not Codex's built-in OpenAI one.
    expect(run.stderr).toContain('provider: gatehouse');
    const events = await eventsSince(since);
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const event of events) {
      expect(event).toMatchObject({ principalId: browser.user.id, api: 'openai-responses', status: 200 });
    }
    await expectBilledToPerson(events.length);
  });

  it('Gemini CLI answers -p through gatehouse gemini, billed to the person', {
    timeout: 90_000,
  }, async () => {
    mock.setDefault({ text: 'Gemini CLI reached the mock through Gatehouse.' });
    const since = await latestSequence();
    const run = await gatehouse(['gemini', '--skip-trust', '-m', 'gemini-2.5-flash', '-p', 'say hi'], {
      gatehouseHome: home,
      env: GEMINI_ENV,
      prepareHome: geminiUserSettings,
    });
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toContain('Gemini CLI reached the mock through Gatehouse.');
    expect(run.stderr).not.toContain('note:');
    const events = await eventsSince(since);
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const event of events) {
      expect(event).toMatchObject({ principalId: browser.user.id, api: 'gemini-generate', status: 200 });
    }
    await expectBilledToPerson(events.length);
  });

  it('says what to do when Gemini CLI has no sign-in method saved (0.61 stops -p)', {
    timeout: 90_000,
  }, async () => {
    const run = await gatehouse(['gemini', '--skip-trust', '-m', 'gemini-2.5-flash', '-p', 'say hi'], {
      gatehouseHome: home,
      env: GEMINI_ENV,
    });
    expect(run.stderr).toContain('note: Gemini CLI has no sign-in method saved yet.');
    expect(run.stderr).toContain('Invalid auth method selected.');
    expect(run.code).toBe(41);
    expect(modelCalls()).toHaveLength(0);
  });

  describe('sessions longer than a personal key', () => {
    /** Signed in while keys live SHORT_KEY_SECONDS, so its first key expires mid-run. */
    let shortHome: string;
    beforeAll(async () => {
      await setPersonalKeyLifetime(SHORT_KEY_SECONDS);
      shortHome = await signIn();
    });
    afterAll(() => setPersonalKeyLifetime(86_400));

    /**
     * Two model calls with the tool's own `sleep` between them, longer than a key lives: the
     * second call is made with an expired key, refused with 401, and must succeed with a fresh
     * key from the tool's refresh hook (`gatehouse token`).
     */
    async function expectRenewedMidRun(run: ToolRun, since: number, api: string): Promise<void> {
      expect(run.ms).toBeGreaterThan(SHORT_KEY_SECONDS * 1000);
      expect(modelCalls()).toHaveLength(2);
      const events = await eventsSince(since);
      expect(events.map((event) => [event.api, event.status, event.principalId])).toEqual(
        events.map(() => [api, 200, browser.user.id]),
      );
      expect(events).toHaveLength(2);
      const [first, last] = [events[0], events.at(-1)] as [(typeof events)[0], (typeof events)[0]];
      expect(last.keyId).not.toBe(first.keyId);
      expect(last.createdAt.getTime() - first.createdAt.getTime()).toBeGreaterThan(SHORT_KEY_SECONDS * 1000);
      await expectBilledToPerson(events.length);
    }

    it("Claude Code: apiKeyHelper hands it a fresh key after the old one's 401", {
      timeout: 90_000,
    }, async () => {
      mock.enqueue({
        toolCall: { name: 'Bash', arguments: { command: `sleep ${SLEEP_SECONDS}`, description: 'wait' } },
      });
      mock.setDefault({ text: 'Claude Code is still going.' });
      const since = await latestSequence();
      const run = await gatehouse(
        [
          'claude',
          '-p',
          'wait, then say so',
          '--model',
          'claude-sonnet-4-6',
          '--allowedTools',
          'Bash(sleep:*)',
        ],
        { gatehouseHome: shortHome, env: CLAUDE_OFFLINE },
      );
      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(run.stdout).toContain('Claude Code is still going.');
      // The sleep ran: its result went back to the model with the second call.
      expect(JSON.stringify(modelCalls().at(-1)?.body.messages.at(-1))).toContain('tool_result');
      await expectRenewedMidRun(run, since, 'anthropic-messages');
    });

    it("Codex: the provider's auth command hands it a fresh key after the old one's 401", {
      timeout: 90_000,
    }, async () => {
      mock.enqueue({
        toolCall: {
          name: 'exec_command',
          arguments: { cmd: `sleep ${SLEEP_SECONDS}`, yield_time_ms: 30_000 },
        },
      });
      mock.setDefault({ text: 'Codex is still going.' });
      const since = await latestSequence();
      const run = await gatehouse(
        // The sandbox is Codex's own (bubblewrap); not every CI machine can start it, and `sleep` needs none.
        ['codex', ...CODEX_EXEC, '--sandbox', 'danger-full-access', '-m', 'gpt-4o', 'wait, then say so'],
        { gatehouseHome: shortHome },
      );
      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(run.stdout).toContain('Codex is still going.');
      expect(JSON.stringify(modelCalls().at(-1)?.body.input.at(-1))).toContain('function_call_output');
      await expectRenewedMidRun(run, since, 'openai-responses');
    });
  });
});
