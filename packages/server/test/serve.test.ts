import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOCK_UPSTREAM_API_KEY,
  type MockUpstream,
  startMockUpstream,
} from './mock-upstream/mock-upstream.js';
import { ADMIN_TOKEN } from './support/harness.js';

/** The real `gatehouse serve`, as a user starts it: a separate process on embedded storage. */
const cli = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

interface Running {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

function startServe(environment: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.0/8',
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve({ process: child, url: match[1], output: () => output, exited });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
}

function runToExit(environment: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/api/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

let mock: MockUpstream;
let dataDir: string;

beforeAll(async () => {
  mock = await startMockUpstream();
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'));
});
afterAll(async () => {
  await mock?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('gatehouse serve', () => {
  it('starts on embedded storage, says where, finishes in-flight streams on SIGTERM and keeps their usage', async () => {
    const environment = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN };
    const first = await startServe(environment);
    expect(first.output()).toContain(`embedded PGlite in ${dataDir}/pgdata`);
    expect(first.output()).toMatch(/next step/);
    expect(first.output()).not.toContain(ADMIN_TOKEN);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    const provider = await admin(first.url, 'POST', '/providers', {
      name: 'mock-anthropic',
      type: 'anthropic',
      baseUrl: mock.url,
      apiKey: MOCK_UPSTREAM_API_KEY,
      models: ['claude-*'],
    });
    await admin(first.url, 'POST', '/routing-policies', {
      name: 'default',
      providers: [provider.id],
      isDefault: true,
    });
    const project = await admin(first.url, 'POST', '/projects', { name: 'shutdown' });
    const key = await admin(first.url, 'POST', '/virtual-keys', { projectId: project.id, name: 'shutdown' });

    // A stream that takes ~1.2 s upstream; SIGTERM arrives after its first event.
    mock.enqueue({ eventDelayMs: 100, usage: { inputTokens: 21, outputTokens: 8 } });
    const response = await fetch(`${first.url}/api/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': key.key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = decoder.decode((await reader.read()).value, { stream: true });
    first.process.kill('SIGTERM');
    for (let reads = 0; reads < 200; reads++) {
      const { done, value } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toContain('event: message_stop');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('stopped');

    // The usage of the drained stream was flushed before exit, and the data dir survives restarts.
    const second = await startServe(environment);
    try {
      const usage = await admin(second.url, 'GET', '/usage?groupBy=key');
      expect(usage.rows).toEqual([
        expect.objectContaining({ group: key.id, requests: 1, inputTokens: 21, outputTokens: 8 }),
      ]);
      // curl -X DELETE -H 'content-type: application/json' sends that header with no body at all.
      const revoke = await fetch(`${second.url}/api/admin/virtual-keys/${key.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      });
      expect(revoke.status).toBeLessThan(300);
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
    // Two cold starts of the real server on PGlite and a 1.2 s stream: slower than the default
    // per-test bound when the suite's first files start together on a busy machine.
  }, 60_000);

  it('prints a start banner naming every endpoint family, with no log line inside it', async () => {
    const running = await startServe({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_LOG_LEVEL: 'info' });
    try {
      await fetch(`${running.url}/healthz`);
      const lines = running.output().trimEnd().split('\n');
      expect(lines[0]).toMatch(/^Gatehouse is listening on http:\/\//);
      for (const family of [
        'OpenAI:',
        'Anthropic:',
        'Gemini:',
        'Claude Code:',
        'CLI sign-in:',
        'SCIM 2.0:',
        'admin API:',
      ]) {
        expect(lines.some((line) => line.trimStart().startsWith(family))).toBe(true);
      }
      expect(running.output()).toContain(':generateContent');
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    } finally {
      running.process.kill('SIGTERM');
      await running.exited;
    }
  });

  it('stops at once with one clear line when its port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const result = await runToExit({ PORT: String(port), GATEHOUSE_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.output.trim()).toBe(
        `gatehouse: port ${port} on 127.0.0.1 is already in use (is another Gatehouse running?); set PORT to a free port`,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses bad settings with the setting named, before doing anything', async () => {
    const bad = await runToExit({
      PORT: 'eighty',
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_ADMIN_TOKEN: 'short',
    });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('PORT must be a whole number from 0 to 65535, got "eighty"');
    expect(bad.output).toContain('GATEHOUSE_ADMIN_TOKEN must be at least 16 characters');
  });

  it('asks for a shared secret key when several instances share PostgreSQL', async () => {
    const result = await runToExit({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      GATEHOUSE_DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('GATEHOUSE_SECRET_KEY is required with DATABASE_URL');
  });
});
