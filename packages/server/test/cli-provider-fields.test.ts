import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { registeredAdapters } from '../src/gateway/providers/registry.js';
import { cliProviderFields, renderCliProviderFields } from './support/cli-provider-fields.js';

/** The CLI's generated list of provider types and fields says what the registry says. */
const cliFile = fileURLToPath(new URL('../../cli/src/commands/admin/provider-fields.ts', import.meta.url));

describe("the CLI's provider fields", () => {
  it('are generated from the provider registry', async () => {
    if (process.env.GATEHOUSE_UPDATE_GENERATED === '1') {
      writeFileSync(cliFile, renderCliProviderFields(registeredAdapters()));
      execFileSync('npx', ['biome', 'format', '--write', cliFile], { stdio: 'ignore' });
    }
    const generated = await import('../../cli/src/commands/admin/provider-fields.js');
    const expected = cliProviderFields(registeredAdapters());
    const stale =
      'packages/cli/src/commands/admin/provider-fields.ts is stale: run this test with GATEHOUSE_UPDATE_GENERATED=1';
    expect(generated.providerTypeSpecs, stale).toEqual(expected.types);
    expect(generated.providerFieldSpecs, stale).toEqual(expected.rows);
  });
});
