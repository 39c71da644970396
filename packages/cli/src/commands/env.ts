import { freshCredentials } from '../session.js';
import { toolNamed } from '../tools/index.js';
import { out, printJson } from '../ui.js';
import { tokenCommand } from './run-tool.js';

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * `gatehouse env <tool>`: shell exports for running something through Gatehouse without the
 * wrapper. For a wrapped tool, its own variables (and the arguments it also needs, as a
 * comment); for anything else, what the OpenAI, Anthropic and Google SDKs read.
 */
export async function env(name: string, options: { json?: boolean }): Promise<void> {
  const credentials = await freshCredentials({ forWholeSession: true });
  const tool = toolNamed(name);
  let variables: Record<string, string | undefined>;
  let args: string[] = [];
  if (tool) {
    const launch = tool.launch({
      server: credentials.server,
      key: credentials.key,
      tokenCommand: tokenCommand(),
    });
    variables = launch.env;
    args = launch.args;
  } else {
    variables = {
      OPENAI_BASE_URL: `${credentials.server}/api/v1`,
      OPENAI_API_KEY: credentials.key,
      ANTHROPIC_BASE_URL: credentials.server,
      ANTHROPIC_AUTH_TOKEN: credentials.key,
      GOOGLE_GEMINI_BASE_URL: credentials.server,
      GEMINI_API_KEY: credentials.key,
    };
  }
  if (options.json) return printJson({ env: variables, args, keyExpiresAt: credentials.keyExpiresAt });
  out(
    `# Gatehouse for ${tool?.title ?? name}; the key expires ${credentials.keyExpiresAt} (run this again after).`,
  );
  for (const [variable, value] of Object.entries(variables)) {
    out(value === undefined ? `unset ${variable}` : `export ${variable}=${shellQuote(value)}`);
  }
  if (args.length > 0) out(`# also pass: ${args.map(shellQuote).join(' ')}`);
}

/** `gatehouse cursor`: the values to paste into Cursor's model settings. */
export async function cursor(options: { json?: boolean }): Promise<void> {
  const credentials = await freshCredentials({ forWholeSession: true });
  const settings = { openAiBaseUrl: `${credentials.server}/api/v1`, openAiApiKey: credentials.key };
  if (options.json) return printJson({ ...settings, keyExpiresAt: credentials.keyExpiresAt });
  out('In Cursor: Settings → Models → API Keys:');
  out(`  OpenAI API Key             ${settings.openAiApiKey}`);
  out(`  Override OpenAI Base URL   ${settings.openAiBaseUrl}`);
  out('Then turn on "Verify" and pick the models your policy allows.');
  out(
    `The key expires ${new Date(credentials.keyExpiresAt).toLocaleString()}; run gatehouse cursor again for a new one.`,
  );
  out('Cursor calls the base URL from its own servers, so it must be reachable from the internet.');
}
