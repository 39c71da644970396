import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';

/**
 * The real coding CLIs from npm, for tests that drive them through `gatehouse <tool>`. They are
 * installed once into a cache directory outside the repository (never into the workspace's
 * node_modules), under a lock so test files running in parallel do not install twice.
 */

export type RealClientName = 'claude' | 'codex' | 'gemini';

/**
 * Exact versions, so a run is repeatable and the cache check is a string comparison.
 * Codex and Gemini CLI are the latest patch releases of 0.171 and 0.61 at the time of writing.
 */
export const REAL_CLIENTS: Record<RealClientName, { packageName: string; version: string }> = {
  claude: { packageName: '@anthropic-ai/claude-code', version: '2.1.197' },
  codex: { packageName: '@openai/codex', version: '0.171.0' },
  gemini: { packageName: '@google/gemini-cli', version: '0.61.0' },
};

/** How long one install may take before it is abandoned (and the tests fail, saying so). */
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

export interface RealClients {
  /** The cache directory's `node_modules/.bin`: put it first on PATH for the wrapper. */
  binDir: string;
  bins: Record<RealClientName, string>;
  /** How long this call spent installing; 0 when everything was already in the cache. */
  installMs: number;
}

/** `$GATEHOUSE_REAL_CLIENTS_DIR`, default `~/.cache/gatehouse/real-clients`. */
export function realClientsDir(): string {
  const dir = resolve(
    process.env.GATEHOUSE_REAL_CLIENTS_DIR ?? join(homedir(), '.cache', 'gatehouse', 'real-clients'),
  );
  const repository = fileURLToPath(new URL('../../../', import.meta.url));
  const inside = relative(repository, dir);
  if (!inside.startsWith('..') && !inside.startsWith('/')) {
    // npm would find the workspace root above it and install into the repository.
    throw new Error(`GATEHOUSE_REAL_CLIENTS_DIR must be outside the repository (${repository}), not ${dir}`);
  }
  return dir;
}

function installedVersion(dir: string, packageName: string): string | undefined {
  try {
    const manifest = join(dir, 'node_modules', packageName, 'package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function missing(dir: string): RealClientName[] {
  return (Object.keys(REAL_CLIENTS) as RealClientName[]).filter((name) => {
    const { packageName, version } = REAL_CLIENTS[name];
    return (
      installedVersion(dir, packageName) !== version || !existsSync(join(dir, 'node_modules', '.bin', name))
    );
  });
}

/** npm settings worth passing on to the install: where packages come from, and how. */
const NPM_SETTINGS_KEPT =
  /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|cafile|ca|strict_ssl)$/i;

/**
 * The environment for `npm install`, without the `npm_*` variables of an npm that started the
 * tests (`npm test`, `npx vitest`): a nested npm would take them as its own (a leftover
 * `npm_config_call` breaks it, a workspace setting would point it back into the repository).
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_') || NPM_SETTINGS_KEPT.test(name)) env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false' };
}

function npmInstall(dir: string, specs: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // Lifecycle scripts stay on: Claude Code's postinstall puts its native binary in place.
    const child = spawn(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', dir, ...specs],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: npmEnvironment(),
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(
            `npm install ${specs.join(' ')} in ${dir} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`,
          ),
        );
    });
  });
}

/**
 * Installs whichever of the three CLIs is missing or at another version, and returns where
 * they are. Call it from a `beforeAll` with a long timeout, never at import time.
 */
export async function installRealClients(): Promise<RealClients> {
  const dir = realClientsDir();
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(
      manifest,
      `${JSON.stringify({ name: 'gatehouse-real-clients', private: true }, null, 2)}\n`,
    );
  }
  const started = Date.now();
  let installMs = 0;
  if (missing(dir).length > 0) {
    // proper-lockfile refreshes the lock while held, so a long install is not taken for a
    // crashed one; a lock left by a killed run goes stale after 30 s.
    const release = await lockfile.lock(manifest, {
      stale: 30_000,
      retries: { retries: Math.ceil(INSTALL_TIMEOUT_MS / 2_000), minTimeout: 2_000, maxTimeout: 2_000 },
      realpath: false,
    });
    try {
      // Another test file may have installed them while this one waited for the lock.
      const stillMissing = missing(dir);
      if (stillMissing.length > 0) {
        await npmInstall(
          dir,
          stillMissing.map((name) => `${REAL_CLIENTS[name].packageName}@${REAL_CLIENTS[name].version}`),
        );
        installMs = Date.now() - started;
      }
    } finally {
      await release();
    }
    const after = missing(dir);
    if (after.length > 0)
      throw new Error(`after npm install, still missing or wrong version: ${after.join(', ')}`);
  }
  const binDir = join(dir, 'node_modules', '.bin');
  return {
    binDir,
    bins: { claude: join(binDir, 'claude'), codex: join(binDir, 'codex'), gemini: join(binDir, 'gemini') },
    installMs,
  };
}
