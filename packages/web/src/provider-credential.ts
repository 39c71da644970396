import type { Provider, ProviderType, ProviderTypeField } from './api';

/**
 * Provider forms drawn from `GET /provider-types`: the fields, which are secret, which are
 * required and their limits all come from the adapters' own schemas, so a new provider type gets
 * its form with nothing written here. `test/form-schemas.test.ts` checks every body these make
 * against the server's own request schemas.
 */

export interface ProviderValues {
  name: string;
  type: string;
  baseUrl: string;
  models: string[];
  /** Each type-specific field as typed: text, or JSON text for an object field. */
  fields: Record<string, string>;
}

/** What the form edits: a new credential, its settings (secrets untouched), or only its secrets. */
export type ProviderFormMode = 'connect' | 'edit' | 'rotate';

export type FieldInput = 'text' | 'secret' | 'secret-text' | 'json';

/** How a field is typed in: a short secret in a password box, a key file in a text area, a map as JSON. */
export function inputOf(field: ProviderTypeField): FieldInput {
  if (field.schema.type === 'object') return 'json';
  if (field.secret) return (field.schema.maxLength ?? 0) > 4096 ? 'secret-text' : 'secret';
  return 'text';
}

/** "AWS region, e.g. us-east-1" → label "AWS region", hint "e.g. us-east-1"; "the API key" → "API key". */
export function labelOf(field: ProviderTypeField): { label: string; hint?: string } {
  const [head = field.name, ...rest] = field.description.replace(/^the /, '').split(', ');
  const label = head.charAt(0).toUpperCase() + head.slice(1);
  return rest.length > 0 ? { label, hint: rest.join(', ') } : { label };
}

/** The fields this mode shows: settings to connect or edit, secrets to connect or rotate. */
export function fieldsFor(type: ProviderType, mode: ProviderFormMode): ProviderTypeField[] {
  if (mode === 'connect') return type.fields;
  return type.fields.filter((field) => (mode === 'rotate' ? field.secret : !field.secret));
}

/** A stored credential's values for the edit form (its secrets are not there to show). */
export function valuesOf(provider: Provider): ProviderValues {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(provider.settings)) {
    fields[name] = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }
  return {
    name: provider.name,
    type: provider.type,
    baseUrl: provider.baseUrl ?? '',
    models: provider.models ?? [],
    fields,
  };
}

export function emptyValues(type: string): ProviderValues {
  return { name: '', type, baseUrl: '', models: [], fields: {} };
}

/** The form's errors by field path (`name`, `baseUrl`, `fields.apiKey`); empty when it may be sent. */
export function providerErrors(
  type: ProviderType,
  values: ProviderValues,
  mode: ProviderFormMode,
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (mode !== 'rotate') {
    if (values.name.trim() === '') errors.name = 'Give it a name';
    else if (values.name.trim().length > 200) errors.name = 'At most 200 characters';
    const baseUrl = values.baseUrl.trim();
    if (baseUrl === '' && type.baseUrlRequired) errors.baseUrl = `${type.type} needs its endpoint URL`;
    else if (baseUrl !== '' && !isHttpUrl(baseUrl)) errors.baseUrl = 'An http(s) URL';
  }
  const shown = fieldsFor(type, mode);
  // Rotating needs at least one new secret; each one left empty keeps the stored value.
  if (mode === 'rotate' && shown.every((field) => (values.fields[field.name] ?? '').trim() === '')) {
    const first = shown[0];
    if (first) errors[`fields.${first.name}`] = 'Type the new secret';
  }
  for (const field of shown) {
    const error = fieldError(field, values.fields[field.name] ?? '', mode);
    if (error) errors[`fields.${field.name}`] = error;
  }
  return errors;
}

function fieldError(field: ProviderTypeField, raw: string, mode: ProviderFormMode): string | undefined {
  const value = field.secret ? raw : raw.trim();
  if (value === '') {
    // An empty secret on rotate keeps the stored one; on connect a required field must be there.
    return field.required && mode !== 'rotate' ? 'Required' : undefined;
  }
  if (inputOf(field) === 'json') {
    const parsed = parseJson(value);
    const isMap =
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((item) => typeof item === 'string' && item !== '');
    return isMap ? undefined : 'A JSON object of names to names, e.g. {"gpt-4o": "my-deployment"}';
  }
  const { minLength, maxLength } = field.schema;
  if (minLength !== undefined && value.length < minLength) return `At least ${minLength} characters`;
  if (maxLength !== undefined && value.length > maxLength) return `At most ${maxLength} characters`;
  return undefined;
}

/** `POST /providers`: the common fields, then every type field that was filled in. */
export function connectBody(type: ProviderType, values: ProviderValues): Record<string, unknown> {
  return {
    name: values.name.trim(),
    type: type.type,
    ...(values.baseUrl.trim() ? { baseUrl: values.baseUrl.trim() } : {}),
    ...(values.models.length > 0 ? { models: values.models } : {}),
    ...filledFields(type.fields, values),
  };
}

/**
 * `PATCH /providers/:id` from the edit form: settings only. An emptied base URL or model list goes
 * back to the vendor's own; the type's settings merge with the stored ones.
 */
export function editBody(type: ProviderType, values: ProviderValues): Record<string, unknown> {
  return {
    name: values.name.trim(),
    baseUrl: values.baseUrl.trim() || null,
    models: values.models.length > 0 ? values.models : null,
    ...filledFields(fieldsFor(type, 'edit'), values),
  };
}

/** `PATCH /providers/:id` from the rotate form: the new secrets only (the others are kept). */
export function rotateBody(type: ProviderType, values: ProviderValues): Record<string, unknown> {
  return filledFields(fieldsFor(type, 'rotate'), values);
}

function filledFields(fields: ProviderTypeField[], values: ProviderValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values.fields[field.name] ?? '';
    const value = field.secret ? raw : raw.trim();
    if (value === '') continue;
    body[field.name] = inputOf(field) === 'json' ? parseJson(value) : value;
  }
  return body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
