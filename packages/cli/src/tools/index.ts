import { readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/**
 * How each coding tool is pointed at Gatehouse for one run: the variables and arguments it
 * reads, and the hook it calls for a fresh key so sessions longer than a key's life keep
 * working. Nothing here writes the tool's own configuration files.
 * Claude Code, Codex and Gemini CLI are run for real against a gateway by
 * `test/real-clients.test.ts`; OpenCode and Copilot CLI are not.
 */

export interface Launch {
  /** The program to run (looked up on PATH). */
  command: string;
  /** Arguments placed before the person's own. */
  args: string[];
  /** Variables to set; `undefined` removes one the person had set (it would take precedence). */
  env: Record<string, string | undefined>;
  /** Said to the person before the tool starts: a setting of theirs that keeps it from Gatehouse. */
  notice?: string;
}

export interface LaunchContext {
  /** The Gatehouse server's URL (no `/api`). */
  server: string;
  /** A personal key with time left on it. */
  key: string;
  /** The command line that prints a fresh key: `'/usr/bin/node' '/…/gatehouse.js' token`. */
  tokenCommand: { command: string; args: string[] };
}

export interface Tool {
  name: string;
  /** What the person calls it. */
  title: string;
  /**
   * Whether the tool asks `gatehouse token` for a new key as it goes. Tools that cannot are
   * started with a key that has (nearly) its whole life ahead of it.
   */
  renewsKey: boolean;
  launch(context: LaunchContext): Launch;
}

/** A shell command line from argv, each word single-quoted (Claude Code runs it with a shell). */
function shellLine(command: string, args: string[]): string {
  return [command, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
}

/** A TOML basic string (Codex's `-c` values are TOML). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

const claude: Tool = {
  name: 'claude',
  renewsKey: true,
  title: 'Claude Code',
  launch: ({ server, tokenCommand }) => ({
    command: 'claude',
    // apiKeyHelper: Claude Code runs it for a key, caches it, and runs it again on a 401, so an
    // expired key is replaced mid-session. --settings adds to the person's settings, never edits them.
    args: [
      '--settings',
      JSON.stringify({ apiKeyHelper: shellLine(tokenCommand.command, tokenCommand.args) }),
    ],
    env: {
      // Claude Code appends /v1/messages itself.
      ANTHROPIC_BASE_URL: server,
      // Both take precedence over apiKeyHelper: with either set, the helper never runs and the
      // session ends with that key's life (checked with 2.1.197). Removed, whoever set them.
      ANTHROPIC_AUTH_TOKEN: undefined,
      ANTHROPIC_API_KEY: undefined,
      // Re-run the helper every 5 minutes as well, not only after a 401.
      CLAUDE_CODE_API_KEY_HELPER_TTL_MS: String(5 * 60 * 1000),
    },
  }),
};

const codex: Tool = {
  name: 'codex',
  renewsKey: true,
  title: 'Codex',
  launch: ({ server, tokenCommand }) => {
    // A provider defined for this run only (`-c` overrides; ~/.codex/config.toml is not touched).
    // Its `auth` command supplies the bearer, re-run before it ages out and after a 401.
    const args = `[${tokenCommand.args.map(tomlString).join(', ')}]`;
    const provider =
      `{ name = "Gatehouse", base_url = ${tomlString(`${server}/api/v1`)}, wire_api = "responses", ` +
      `requires_openai_auth = false, auth = { command = ${tomlString(tokenCommand.command)}, args = ${args}, ` +
      'timeout_ms = 15000, refresh_interval_ms = 300000 } }';
    return {
      command: 'codex',
      args: ['-c', 'model_provider="gatehouse"', '-c', `model_providers.gatehouse=${provider}`],
      env: {},
    };
  },
};

/**
 * The sign-in method Gemini CLI will use, from the files it reads it from (system settings
 * override the person's own). Read only, and only roughly (the files are JSON with comments):
 * it decides a notice, never the launch.
 */
function geminiSelectedAuthType(): string | undefined {
  const systemSettings =
    process.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH ||
    (platform() === 'darwin'
      ? '/Library/Application Support/GeminiCli/settings.json'
      : platform() === 'win32'
        ? 'C:\\ProgramData\\gemini-cli\\settings.json'
        : '/etc/gemini-cli/settings.json');
  const userSettings = join(process.env.GEMINI_CLI_HOME || homedir(), '.gemini', 'settings.json');
  for (const path of [systemSettings, userSettings]) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const selected = /"selectedType"\s*:\s*"([^"]*)"/.exec(text)?.[1];
    if (selected) return selected;
  }
  return undefined;
}

const gemini: Tool = {
  name: 'gemini',
  renewsKey: false,
  title: 'Gemini CLI',
  launch: ({ server, key }) => {
    // Gemini CLI has no key helper: it reads GEMINI_API_KEY once, so a session ends with the
    // key's life. Its sign-in method is a setting (security.auth.selectedType) that the
    // wrapper cannot set without writing a file: system settings files are ignored unless
    // root owns them and every directory above them (0.61), and the person's own file is theirs.
    const selected = geminiSelectedAuthType();
    let notice: string | undefined;
    if (selected === undefined) {
      notice =
        'Gemini CLI has no sign-in method saved yet. Run gatehouse gemini once without -p and press Enter ' +
        'at "How would you like to authenticate" ("Use Gemini API Key" is already selected); ' +
        'until then gemini -p stops with "Invalid auth method selected."';
    } else if (selected !== 'gemini-api-key') {
      notice =
        `Gemini CLI is set to sign in with "${selected}", so it would not go through Gatehouse. ` +
        'In gatehouse gemini, run /auth and choose "Use Gemini API Key".';
    }
    return {
      command: 'gemini',
      args: [],
      env: {
        // Gemini CLI appends /v1beta/models/… itself.
        GOOGLE_GEMINI_BASE_URL: server,
        // Sent as x-goog-api-key. It also makes "Use Gemini API Key" the preselected answer
        // when Gemini CLI asks how to sign in.
        GEMINI_API_KEY: key,
        // Each of these would choose another sign-in (Google account, Vertex AI) over the key.
        GOOGLE_GENAI_USE_GCA: undefined,
        GOOGLE_GENAI_USE_VERTEXAI: undefined,
        GOOGLE_API_KEY: undefined,
      },
      ...(notice ? { notice } : {}),
    };
  },
};

const opencode: Tool = {
  name: 'opencode',
  renewsKey: false,
  title: 'OpenCode',
  launch: ({ server, key }) => ({
    command: 'opencode',
    args: [],
    env: {
      // OpenCode merges this JSON over its configuration: both providers point at the gateway.
      OPENCODE_CONFIG_CONTENT: JSON.stringify({
        provider: {
          anthropic: { options: { baseURL: `${server}/v1`, apiKey: key } },
          openai: { options: { baseURL: `${server}/api/v1`, apiKey: key } },
        },
      }),
    },
  }),
};

const copilot: Tool = {
  name: 'copilot',
  renewsKey: false,
  title: 'GitHub Copilot CLI',
  launch: ({ server, key }) => ({
    command: 'copilot',
    args: [],
    env: {
      // Copilot CLI's bring-your-own-key provider, in Anthropic Messages format.
      COPILOT_PROVIDER_TYPE: 'anthropic',
      COPILOT_PROVIDER_BASE_URL: server,
      COPILOT_PROVIDER_API_KEY: key,
      COPILOT_MODEL: process.env.COPILOT_MODEL ?? 'claude-sonnet-4-6',
    },
  }),
};

export const tools: readonly Tool[] = [claude, codex, gemini, opencode, copilot];

export function toolNamed(name: string): Tool | undefined {
  return tools.find((tool) => tool.name === name);
}
