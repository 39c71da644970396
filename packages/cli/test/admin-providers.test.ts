import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestGatehouse, type TestGatehouse } from '../../server/test/support/harness.js';
import { runCli, scratchHome } from './support.js';

/**
 * `gatehouse admin providers` has a flag per field the registry's adapters define, so every
 * provider type can be connected from the command line, secrets from the environment or a file.
 */
let server: TestGatehouse;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestGatehouse();
  env = { GATEHOUSE_HOME: scratchHome(), GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN };
});
afterAll(() => server?.close());

async function admin(args: string[], extra: Record<string, string> = {}) {
  return runCli(['admin', '--server', server.url, '--json', 'providers', ...args], { ...env, ...extra });
}

describe('gatehouse admin providers', () => {
  it('connects Bedrock with its settings as flags and its secrets from the environment', async () => {
    const added = await admin(
      [
        'add',
        '--name',
        'bedrock',
        '--type',
        'bedrock',
        '--region',
        'us-east-1',
        '--access-key-id',
        'AKIATEST',
      ],
      { GATEHOUSE_PROVIDER_SECRET_ACCESS_KEY: 'from-the-environment' },
    );
    expect(added.code, added.stderr).toBe(0);
    const { id } = JSON.parse(added.stdout);
    const [stored] = (await server.admin('GET', '/providers')).data.filter(
      (row: { id: string }) => row.id === id,
    );
    expect(stored).toMatchObject({ type: 'bedrock', settings: { region: 'us-east-1' }, hasApiKey: true });

    const moved = await admin(['update', id, '--region', 'eu-west-1']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout).settings).toEqual({ region: 'eu-west-1' });
  });

  it('reads a Vertex key file with @file, and says what a type still needs', async () => {
    const keyFile = join(scratchHome(), 'key.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        client_email: 'a@b.iam.gserviceaccount.com',
        private_key: 'k',
      }),
    );
    const vertex = await admin([
      'add',
      '--name',
      'vertex',
      '--type',
      'vertex',
      '--project-id',
      'p',
      '--location',
      'us-east5',
      '--service-account-json',
      `@${keyFile}`,
    ]);
    expect(vertex.code, vertex.stderr).toBe(0);
    expect(JSON.parse(vertex.stdout)).toMatchObject({ type: 'vertex' });

    const incomplete = await admin(['add', '--name', 'half', '--type', 'bedrock', '--region', 'us-east-1']);
    expect(incomplete.code).not.toBe(0);
    expect(incomplete.stderr).toContain('A provider of type bedrock needs accessKeyId, secretAccessKey.');
  });

  it('names every registered type, with what it needs, in its help', async () => {
    const help = await runCli(['admin', 'providers', 'add', '--help'], env);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('bedrock (needs region, accessKeyId, secretAccessKey)');
    expect(text).toContain('--service-account-json <value>');
  });
});
