import { createServer } from 'node:net';
import { ConfigError, loadConfig } from './config.js';
import { devIdpWarning } from './control/sso/dev-idp.js';
import { findWebRoot } from './http/web-app.js';
import { assemble } from './wiring.js';

/**
 * `gatehouse serve`: control plane and gateway in one process. Prints where it listens, which
 * storage it uses and what to do next; drains gracefully on SIGTERM or SIGINT.
 */
export async function serve(environment: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }

  // Storage takes seconds to open; a taken port is known in milliseconds, so it is asked first.
  // (The real listen below still reports a port taken in between.)
  const portProblem = await probePort(config.host, config.port);
  if (portProblem) {
    process.stderr.write(`gatehouse: ${listenFailure(portProblem, config.host, config.port)}\n`);
    process.exitCode = 1;
    return;
  }

  let gatehouse: Awaited<ReturnType<typeof assemble>>;
  try {
    gatehouse = await assemble(config);
  } catch (error) {
    process.stderr.write(`gatehouse: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  let address: string;
  try {
    address = await gatehouse.app.listen({ port: config.port, host: config.host });
  } catch (error) {
    process.stderr.write(`gatehouse: ${listenFailure(error, config.host, config.port)}\n`);
    process.exitCode = 1;
    // Nothing was served: no grace period to wait for.
    await gatehouse.close(0).catch(() => undefined);
    return;
  }
  const origin = config.port === 0 ? address : config.publicUrl;
  const banner = startBanner({
    address,
    origin,
    storage: gatehouse.storage.description,
    secretKey: gatehouse.masterKeyOrigin,
    adminApiOn: config.adminToken !== undefined,
    webAppOn: findWebRoot() !== undefined,
  });
  process.stdout.write(`${banner.join('\n')}\n`);
  if (config.devSso) process.stderr.write(`gatehouse: ${devIdpWarning(config.devSso.emails)}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(
      `gatehouse: ${signal} received, finishing in-flight requests (up to ${config.shutdownGraceMs} ms)\n`,
    );
    gatehouse
      .close(config.shutdownGraceMs)
      .then(() => process.stdout.write('gatehouse: stopped\n'))
      .catch((error: unknown) => {
        process.stderr.write(`gatehouse: error while stopping: ${(error as Error).message}\n`);
        process.exitCode = 1;
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Binds the port for a moment: the error it would give, or undefined when it is free. */
function probePort(host: string, port: number): Promise<Error | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', resolve);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** One line a person can act on, instead of a stack trace, when the server cannot listen. */
function listenFailure(error: unknown, host: string, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return `port ${port} on ${host} is already in use (is another Gatehouse running?); set PORT to a free port`;
  }
  if (code === 'EACCES')
    return `not allowed to listen on port ${port} on ${host}; set PORT to a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine; set HOST`;
  return `could not listen on ${host}:${port}: ${(error as Error).message}`;
}

interface BannerFacts {
  address: string;
  /** The URL people and tools use (GATEHOUSE_PUBLIC_URL, or where it listens). */
  origin: string;
  storage: string;
  secretKey: string;
  adminApiOn: boolean;
  /** Whether the web app was built (packages/web/dist) and is served at `/`. */
  webAppOn: boolean;
}

/** What `gatehouse serve` prints once it listens: every endpoint family and the next step. */
export function startBanner(facts: BannerFacts): string[] {
  const { origin } = facts;
  return [
    `Gatehouse is listening on ${facts.address}`,
    facts.webAppOn
      ? `  web app:      ${origin}/`
      : '  web app:      not built (npm run build builds packages/web)',
    `  storage:      ${facts.storage}`,
    `  secret key:   ${facts.secretKey}`,
    `  OpenAI:       ${origin}/api/v1  (chat/completions, responses, embeddings, models)`,
    `  Anthropic:    ${origin}/api  (v1/messages, v1/messages/count_tokens)`,
    `  Gemini:       ${origin}/api  (v1beta/models/{model}:generateContent, :streamGenerateContent, :countTokens)`,
    `  Claude Code:  ${origin}  (its gateway sign-in, /managed/settings, OTLP /v1/{metrics,logs,traces})`,
    `  CLI sign-in:  ${origin}/.well-known/oauth-authorization-server  (gatehouse login --server ${origin})`,
    `  SCIM 2.0:     ${origin}/scim/v2`,
    `  admin API:    ${origin}/api/admin  ·  OpenAPI at ${origin}/api/openapi.json`,
    facts.adminApiOn
      ? '  next step:    connect a provider: see the quick start in README.md'
      : '  next step:    set GATEHOUSE_ADMIN_TOKEN (try: openssl rand -hex 24) and restart to use the admin API',
  ];
}
