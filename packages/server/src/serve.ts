import { ConfigError, loadConfig } from './config.js';
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

  let gatehouse: Awaited<ReturnType<typeof assemble>>;
  try {
    gatehouse = await assemble(config);
  } catch (error) {
    process.stderr.write(`gatehouse: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const address = await gatehouse.app.listen({ port: config.port, host: config.host });
  const origin = config.port === 0 ? address : config.publicUrl;
  const lines = [
    `Gatehouse is listening on ${address}`,
    `  storage:      ${gatehouse.storage.description}`,
    `  secret key:   ${gatehouse.masterKeyOrigin}`,
    `  gateway:      ${origin}/api/v1 (OpenAI)  ·  ${origin}/api (Anthropic)`,
    `  admin API:    ${origin}/api/admin  ·  OpenAPI at ${origin}/api/openapi.json`,
    config.adminToken
      ? '  next step:    connect a provider: see the quick start in README.md'
      : '  next step:    set GATEHOUSE_ADMIN_TOKEN (try: openssl rand -hex 24) and restart to use the admin API',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

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
