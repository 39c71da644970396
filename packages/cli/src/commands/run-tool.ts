import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { getWithKey, type SelfStatus } from '../server-api.js';
import { freshCredentials } from '../session.js';
import { type LaunchContext, type Tool, toolNamed } from '../tools/index.js';
import { CliError, ExitCode, note, paint } from '../ui.js';

/** How a tool is installed, for the message when it is not. */
const installHints: Record<string, string> = {
  claude: 'npm install -g @anthropic-ai/claude-code',
  codex: 'npm install -g @openai/codex',
  gemini: 'npm install -g @google/gemini-cli',
  opencode: 'npm install -g opencode-ai',
  copilot: 'npm install -g @github/copilot',
};

/** The command line of `gatehouse token`, as this very process was started. */
export function tokenCommand(): LaunchContext['tokenCommand'] {
  const script = process.argv[1] ? realpathSync(process.argv[1]) : 'gatehouse';
  return { command: process.execPath, args: [script, 'token'] };
}

/** The tool's launch with a fresh key, ready to spawn. */
export async function prepareLaunch(name: string) {
  const tool = toolNamed(name);
  if (!tool) throw new CliError(`Unknown tool: ${name}`, ExitCode.usage);
  const credentials = await freshCredentials({ forWholeSession: !tool.renewsKey });
  return {
    tool,
    credentials,
    launch: tool.launch({ server: credentials.server, key: credentials.key, tokenCommand: tokenCommand() }),
  };
}

/**
 * `gatehouse <tool> [args…]`: runs the tool talking to Gatehouse. Arguments, stdin, stdout and
 * stderr pass through untouched; signals are forwarded; the tool's exit code is ours.
 */
export async function runTool(name: string, userArgs: string[]): Promise<number> {
  const { tool, credentials, launch } = await prepareLaunch(name);
  await refuseWhenBudgetSpent(tool, credentials.server, credentials.key);
  if (launch.notice) note(`${paint(process.stderr, 'yellow', 'note:')} ${launch.notice}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [variable, value] of Object.entries(launch.env)) {
    if (value === undefined) delete env[variable];
    else env[variable] = value;
  }
  const child = spawn(launch.command, [...launch.args, ...userArgs], { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const forwarded = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((signal) => {
    const handler = forward(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(
            new CliError(
              `${tool.title} is not installed (no \`${launch.command}\` on your PATH).`,
              ExitCode.toolMissing,
              `Install it with: ${installHints[tool.name] ?? `see ${tool.title}'s documentation`}`,
            ),
          );
        } else {
          reject(error);
        }
      });
      child.on('exit', (code, signal) => {
        // Killed by a signal: report it the way a shell does (128 + its number).
        resolve(code ?? 128 + (signal ? (signalNumbers[signal] ?? 1) : 1));
      });
    });
  } finally {
    for (const [signal, handler] of forwarded) process.off(signal, handler);
  }
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

/** Says so before starting a tool that would only be refused (402) on its first call. */
async function refuseWhenBudgetSpent(tool: Tool, server: string, key: string): Promise<void> {
  let status: SelfStatus;
  try {
    status = await getWithKey<SelfStatus>(server, '/api/auth/cli/status', key);
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.notSignedIn) throw error;
    return; // Status is advisory; the gateway enforces budgets anyway.
  }
  const spent = status.budgets.find((budget) => budget.action === 'block' && budget.remainingUsd <= 0);
  if (spent) {
    const which = spent.name ? `"${spent.name}"` : `your ${spent.scope} budget`;
    const reset = spent.resetsAt ? ` It resets ${new Date(spent.resetsAt).toLocaleString()}.` : '';
    throw new CliError(
      `${which} is used up, so ${tool.title} would be refused.${reset}`,
      ExitCode.budgetExhausted,
      'See gatehouse status, or ask your administrator for more.',
    );
  }
}
