import { describe, expect, it } from 'vitest';
import { runCli, scratchHome } from './support.js';

/**
 * Every command in `--help` says in one line what it does, at the 80 columns commander uses
 * when it does not know the terminal's width: a command with no description, or one whose
 * description wraps onto a second line, is what this walk catches.
 */

/** The wrappers hand `--help` to the tool itself, so their own help is the tool's. */
const PASSED_THROUGH = new Set(['claude', 'codex', 'gemini', 'opencode', 'copilot', 'help']);

interface Listed {
  name: string;
  description: string;
  /** Lines after the first that belong to this entry (commander wrapped it). */
  continuation: string[];
}

/** The entries of a help text's `Commands:` section. */
function listedCommands(help: string): Listed[] {
  const lines = help.split('\n');
  const start = lines.indexOf('Commands:');
  if (start === -1) return [];
  const entries: Listed[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const entry = /^ {2}(\S+)(.*?)(?: {2,}(\S.*))?$/.exec(line);
    if (entry?.[1]) {
      entries.push({ name: entry[1], description: entry[3] ?? '', continuation: [] });
    } else {
      entries.at(-1)?.continuation.push(line.trim());
    }
  }
  return entries;
}

interface Problem {
  command: string;
  problem: string;
}

/** Walks `gatehouse <path> --help` and every subcommand below it; returns what is wrong. */
async function walk(
  path: string[],
  home: string,
  skip: ReadonlySet<string> = PASSED_THROUGH,
): Promise<{ visited: string[]; problems: Problem[] }> {
  const run = await runCli([...path, '--help'], { GATEHOUSE_HOME: home });
  const where = ['gatehouse', ...path].join(' ');
  if (run.code !== 0)
    return { visited: [where], problems: [{ command: where, problem: `exit ${run.code}` }] };
  const entries = listedCommands(run.stdout);
  const problems: Problem[] = [];
  for (const entry of entries) {
    const command = `${where} ${entry.name}`;
    if (entry.description === '') problems.push({ command, problem: 'no description' });
    if (entry.continuation.length > 0) {
      problems.push({ command, problem: `description wraps: "${entry.continuation.join(' ')}"` });
    }
  }
  const below = await Promise.all(
    entries.filter((entry) => !skip.has(entry.name)).map((entry) => walk([...path, entry.name], home)),
  );
  return {
    visited: [where, ...below.flatMap((result) => result.visited)],
    problems: [...problems, ...below.flatMap((result) => result.problems)],
  };
}

describe('gatehouse --help', () => {
  it('lists every command with a one-line description', async () => {
    // `admin` is listed here and walked by the next test.
    const { visited, problems } = await walk([], scratchHome(), new Set([...PASSED_THROUGH, 'admin']));
    expect(visited).toContain('gatehouse login');
    expect(problems).toEqual([]);
  }, 60_000);

  it('lists every admin command and subcommand with a one-line description', async () => {
    const { visited, problems } = await walk(['admin'], scratchHome());
    expect(visited).toContain('gatehouse admin providers');
    expect(problems).toEqual([]);
  }, 60_000);

  it('says how to install the command', async () => {
    const run = await runCli(['--help'], { GATEHOUSE_HOME: scratchHome() });
    expect(run.stdout).toContain('npm install -g gatehouse-cli');
  });
});
