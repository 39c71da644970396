import { describe, expect, it } from 'vitest';
import { clientToolFromUserAgent } from './client-tool.js';

describe('clientToolFromUserAgent', () => {
  const cases: Array<[string, string | undefined, ReturnType<typeof clientToolFromUserAgent>]> = [
    ['Claude Code in the terminal', 'claude-cli/2.1.197 (external, cli)', 'claude-code'],
    ['Claude Code through the Agent SDK', 'claude-cli/2.0.24 (external, sdk-ts)', 'claude-code'],
    ['Claude Code in VS Code', 'claude-cli/1.0.88 (external, claude-vscode)', 'claude-code'],
    ['Codex CLI', 'codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm-256color', 'codex'],
    ['codex exec', 'codex_exec/0.171.0 (Ubuntu 24.04.2 LTS; x86_64) WindowsTerminal', 'codex'],
    [
      "Codex run inside Cursor's terminal",
      'codex_cli_rs/0.38.0 (Mac OS 15.5.0; arm64) vscode/1.99.3',
      'codex',
    ],
    ['Gemini CLI', 'GeminiCLI/0.61.0/gemini-2.5-pro (linux; x64)', 'gemini-cli'],
    [
      'Gemini CLI with the genai SDK token',
      'GeminiCLI/0.61.0/gemini-2.5-flash (darwin; arm64) google-genai-sdk/1.30.0 gl-node/v20.19.0',
      'gemini-cli',
    ],
    ['Qwen Code', 'QwenCode/0.0.14 (linux; x64)', 'qwen-code'],
    ['OpenCode', 'opencode/1.0.10', 'opencode'],
    [
      'OpenCode with the AI SDK token',
      'opencode/0.15.8 ai-sdk/provider-utils/3.0.9 runtime/bun/1.3.0',
      'opencode',
    ],
    [
      "Cursor's Electron app",
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Cursor/1.7.38 Chrome/132.0.6834.210 Electron/34.5.8 Safari/537.36',
      'cursor',
    ],
    ['the OpenAI SDK alone', 'OpenAI/JS 5.23.2', null],
    ['the Anthropic SDK alone', 'Anthropic/JS 0.65.0', null],
    ['curl', 'curl/8.5.0', null],
    [
      'a browser',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      null,
    ],
    ['Node fetch', 'node', null],
    ['no header', undefined, null],
    ['an empty header', '', null],
    ["a name only part of a tool's", 'claude-cli-fork/1.0', null],
  ];

  for (const [name, userAgent, tool] of cases) {
    it(`names ${name} ${tool ?? 'as no tool'}`, () => {
      expect(clientToolFromUserAgent(userAgent)).toBe(tool);
    });
  }

  it('does not scan an absurdly long header', () => {
    expect(clientToolFromUserAgent(`claude-cli/1.0 ${'x'.repeat(1000)}`)).toBeNull();
  });
});
