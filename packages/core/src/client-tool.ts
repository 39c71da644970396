/**
 * Which coding tool made a call, read from its User-Agent. Usage is grouped by it, so an
 * organisation sees what Claude Code costs against Codex or Gemini CLI.
 *
 * Each tool names itself in the first product token of its User-Agent:
 * - Claude Code: `claude-cli/2.1.197 (external, cli)` (the entry point after the comma: `cli`,
 *   `sdk-ts`, `sdk-py`, `claude-vscode` — all Claude Code underneath).
 *   @see https://docs.anthropic.com/en/docs/claude-code/llm-gateway
 * - Codex: `codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm-256color`; the originator before
 *   the slash is `codex_exec` for `codex exec`, `codex_vscode` for the IDE extension.
 *   @see https://github.com/openai/codex/blob/main/codex-rs/core/src/default_client.rs
 * - Gemini CLI: `GeminiCLI/0.61.0/gemini-2.5-pro (linux; x64)`; Qwen Code, its fork, `QwenCode/…`.
 *   @see https://github.com/google-gemini/gemini-cli/blob/main/packages/core/src/core/contentGenerator.ts
 * - OpenCode: `opencode/1.0.10`, sometimes with the AI SDK's own token after it.
 * - Cursor: its Electron app's browser-style agent carries `Cursor/1.7.0` among the others.
 *
 * The first token decides, because a CLI's agent may end with the terminal it runs in (Codex
 * appends e.g. `vscode/1.95.0`, which Cursor's terminal reports too). Cheap enough for every call:
 * one slice and a map lookup, one search of the string for the Cursor fallback.
 */
export const clientTools = ['claude-code', 'codex', 'gemini-cli', 'qwen-code', 'opencode', 'cursor'] as const;
export type ClientTool = (typeof clientTools)[number];

/** The first product token's name (before its `/`), lower-cased, to the tool it stands for. */
const byLeadingProduct: ReadonlyMap<string, ClientTool> = new Map([
  ['claude-cli', 'claude-code'],
  ['claude-code', 'claude-code'],
  ['geminicli', 'gemini-cli'],
  ['qwencode', 'qwen-code'],
  ['opencode', 'opencode'],
  ['cursor', 'cursor'],
]);

/** Codex's originators all start so: `codex_cli_rs`, `codex_exec`, `codex_vscode`, … */
const CODEX_ORIGINATOR = 'codex_';
/** Cursor's Electron agent: `Mozilla/5.0 (…) Cursor/1.7.0 Chrome/132.0.0.0 Electron/34.5.1 …`. */
const CURSOR_TOKEN = ' Cursor/';
/** A User-Agent longer than this is no coding tool's; it is not scanned. */
const MAX_SCANNED_LENGTH = 512;

/** The coding tool a User-Agent names, or null when it names none Gatehouse knows. */
export function clientToolFromUserAgent(userAgent: string | undefined): ClientTool | null {
  if (!userAgent || userAgent.length > MAX_SCANNED_LENGTH) return null;
  const slash = userAgent.indexOf('/');
  if (slash > 0) {
    const product = userAgent.slice(0, slash).toLowerCase();
    if (product.startsWith(CODEX_ORIGINATOR)) return 'codex';
    const tool = byLeadingProduct.get(product);
    if (tool) return tool;
  }
  return userAgent.includes(CURSOR_TOKEN) ? 'cursor' : null;
}
