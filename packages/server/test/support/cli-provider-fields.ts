import { z } from 'zod';
import { requiredFieldsOf, typeSpecificFields } from '../../src/control/admin/provider-fields.js';
import type { ProviderAdapter } from '../../src/gateway/providers/types.js';

/**
 * Renders `packages/cli/src/commands/admin/provider-fields.ts` from the provider registry. The
 * CLI has no server dependency, so it carries this generated list; a test compares the lists and
 * rewrites the file with GATEHOUSE_UPDATE_GENERATED=1, so the CLI's flags and help cannot
 * contradict the registry.
 */

type Kind = 'string' | 'number' | 'boolean' | 'json';

function kindOf(schema: z.ZodType): Kind {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as { type?: unknown };
  if (json.type === 'string') return 'string';
  if (json.type === 'integer' || json.type === 'number') return 'number';
  if (json.type === 'boolean') return 'boolean';
  return 'json';
}

/** The CLI's lists as the registry says they should be. */
export function cliProviderFields(adapters: readonly ProviderAdapter[]) {
  const types = adapters.map((adapter) => ({
    type: adapter.type,
    description: adapter.description,
    required: requiredFieldsOf(adapter),
  }));
  const rows = [...typeSpecificFields(adapters)].map(([field, { schema, secret, description }]) => ({
    field,
    kind: kindOf(schema),
    secret,
    description,
  }));
  return { types, rows };
}

/** The whole generated module (biome then formats it). */
export function renderCliProviderFields(adapters: readonly ProviderAdapter[]): string {
  const { types, rows } = cliProviderFields(adapters);
  return `// Generated from the server's provider registry (packages/server/src/gateway/providers/registry.ts)
// by packages/server/test/cli-provider-fields.test.ts; GATEHOUSE_UPDATE_GENERATED=1 rewrites it. Do not edit.

/** A provider type the server knows, and the fields it cannot be created without. */
export interface ProviderTypeSpec {
  type: string;
  description: string;
  required: readonly string[];
}

/** A type-specific field of a provider credential: a flag of \`gatehouse admin providers add\`. */
export interface ProviderFieldSpec {
  field: string;
  kind: 'string' | 'number' | 'boolean' | 'json';
  /** Sealed by the server and never returned; the CLI also reads it from the environment. */
  secret: boolean;
  description: string;
}

export const providerTypeSpecs: readonly ProviderTypeSpec[] = ${JSON.stringify(types, null, 2)};

export const providerFieldSpecs: readonly ProviderFieldSpec[] = ${JSON.stringify(rows, null, 2)};
`;
}
