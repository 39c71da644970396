import { z } from 'zod';
import type { ProviderAdapter } from '../../gateway/index.js';
import type { ProviderSecret } from '../../store/providers.js';

/**
 * The type-specific fields of a provider credential, read from the adapters' own schemas: which
 * body fields exist, which are secret, which are required, and what each one means. Nothing here
 * names a provider, so a new adapter's fields reach the admin API and its document by themselves.
 */

/** Fields every credential has, whatever its type; the rest belong to the adapter. */
export const commonProviderFields = [
  'name',
  'type',
  'baseUrl',
  'models',
  'forwardIdentity',
  'priceOverrides',
  'defaultPrice',
] as const;

const SECRET_NOTE = 'stored encrypted; never returned';

/** Whether a field may be left out: its schema accepts `undefined`. */
function isOptional(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** The adapter's fields, settings first, each with whether it is secret. */
function fieldsOf(adapter: ProviderAdapter): { field: string; schema: z.ZodType; secret: boolean }[] {
  return [
    ...Object.entries(adapter.credential.settings.shape).map(([field, schema]) => ({
      field,
      schema: schema as z.ZodType,
      secret: false,
    })),
    ...Object.entries(adapter.credential.secrets.shape).map(([field, schema]) => ({
      field,
      schema: schema as z.ZodType,
      secret: true,
    })),
  ];
}

/** One field of one type as the web app's forms draw it: the adapter's own schema, as JSON Schema. */
export interface TypeField {
  name: string;
  secret: boolean;
  required: boolean;
  description: string;
  schema: Record<string, unknown>;
}

/** The adapter's fields for a form: settings first, then secrets, each with its JSON Schema. */
export function typeFieldsOf(adapter: ProviderAdapter): TypeField[] {
  return fieldsOf(adapter).map(({ field, schema, secret }) => ({
    name: field,
    secret,
    required: !isOptional(schema),
    description: schema.description ?? field,
    // io: 'input' documents what a caller sends; optional wrappers vanish (required says it).
    schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  }));
}

/** The fields a credential of this type cannot be called without, in the order messages name them. */
export function requiredFieldsOf(adapter: ProviderAdapter): string[] {
  return [
    ...(adapter.credential.baseUrlRequired ? ['baseUrl'] : []),
    ...fieldsOf(adapter)
      .filter(({ schema }) => !isOptional(schema))
      .map(({ field }) => field),
  ];
}

/** One type-specific field across every adapter that has it. */
export interface TypeSpecificField {
  /** The first adapter's schema: the flat body validates with it, each type with its own. */
  schema: z.ZodType;
  secret: boolean;
  /** What it is for each type that has it, types sharing a meaning named together. */
  description: string;
}

/**
 * Every adapter's fields, in registry order, each described by the types that have it
 * (`bedrock: AWS region, e.g. us-east-1`; `openai, anthropic: the API key`).
 */
export function typeSpecificFields(adapters: readonly ProviderAdapter[]): Map<string, TypeSpecificField> {
  const byField = new Map<string, { schema: z.ZodType; secret: boolean; uses: Map<string, string[]> }>();
  for (const adapter of adapters) {
    for (const { field, schema, secret } of fieldsOf(adapter)) {
      const meaning = schema.description ?? field;
      const known = byField.get(field) ?? { schema, secret, uses: new Map<string, string[]>() };
      known.uses.set(meaning, [...(known.uses.get(meaning) ?? []), adapter.type]);
      byField.set(field, known);
    }
  }
  const fields = new Map<string, TypeSpecificField>();
  for (const [field, { schema, secret, uses }] of byField) {
    const description = [...uses].map(([meaning, types]) => `${types.join(', ')}: ${meaning}`).join('; ');
    fields.set(field, { schema, secret, description });
  }
  return fields;
}

/**
 * Every adapter's fields as optional flat fields of the create body. A field several adapters
 * share (`apiKey`) is one field, validated by the first adapter's schema here and by each type's
 * own at the route.
 */
export function typeSpecificBodyFields(adapters: readonly ProviderAdapter[]): Record<string, z.ZodType> {
  const fields: Record<string, z.ZodType> = {};
  for (const [field, { schema, secret, description }] of typeSpecificFields(adapters)) {
    fields[field] = schema.optional().describe(`${description}${secret ? `. Secret: ${SECRET_NOTE}` : ''}`);
  }
  return fields;
}

/** The `type` field's description: each type, what it is, and what it cannot be created without. */
export function typeDescription(adapters: readonly ProviderAdapter[]): string {
  return adapters
    .map((adapter) => {
      const required = requiredFieldsOf(adapter);
      return `${adapter.type}: ${adapter.description}${required.length > 0 ? ` (needs ${required.join(', ')})` : ''}`;
    })
    .join('; ');
}

export interface SplitFields {
  secret: ProviderSecret;
  settings: Record<string, unknown>;
  columns: Record<string, unknown>;
  /**
   * Fields this type does not have (another type's): accepted, as the one flat body documents
   * them for every type, but never stored, since this type's adapter would never read them.
   */
  foreign: string[];
}

/** Splits a request body into the sealed secret, the plain settings and the row's own columns. */
export function splitFields(adapter: ProviderAdapter, body: Record<string, unknown>): SplitFields {
  const secretFields = Object.keys(adapter.credential.secrets.shape);
  const settingFields = Object.keys(adapter.credential.settings.shape);
  const split: SplitFields = { secret: {}, settings: {}, columns: {}, foreign: [] };
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined) continue;
    if (secretFields.includes(field)) split.secret[field] = value as string;
    else if (settingFields.includes(field)) split.settings[field] = value;
    else if ((commonProviderFields as readonly string[]).includes(field)) split.columns[field] = value;
    else split.foreign.push(field);
  }
  return split;
}

/** Why the fields given for this type are not valid for it (its own schemas), or undefined. */
export function invalidFields(adapter: ProviderAdapter, split: SplitFields): string | undefined {
  const own = z
    .object({ ...adapter.credential.settings.shape, ...adapter.credential.secrets.shape })
    .partial()
    .safeParse({ ...split.settings, ...split.secret });
  if (own.success) return undefined;
  const issue = own.error.issues[0];
  return `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`;
}

/** Why a credential of this type could not be called as it would stand, or undefined when it could. */
export function invalidCredential(
  adapter: ProviderAdapter,
  standing: { baseUrl: string | null | undefined; settings: Record<string, unknown>; secret: ProviderSecret },
): string | undefined {
  const values: Record<string, unknown> = {
    baseUrl: standing.baseUrl,
    ...standing.settings,
    ...standing.secret,
  };
  const missing = requiredFieldsOf(adapter).filter(
    (field) => values[field] === undefined || values[field] === null,
  );
  if (missing.length > 0) return `A provider of type ${adapter.type} needs ${missing.join(', ')}.`;
  return adapter.credential.problem?.({
    baseUrl: standing.baseUrl ?? undefined,
    settings: standing.settings,
    secret: standing.secret,
  });
}
