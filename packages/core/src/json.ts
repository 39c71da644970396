/**
 * Readers for parsed JSON we did not write (client bodies, provider answers, SCIM patches): each
 * narrows `unknown` without throwing, so a field of the wrong type reads as absent. They live
 * once here so every package agrees on what "an object" is (never an array, never null).
 */

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A finite number, or undefined: NaN and the infinities are not numbers a wire format carries. */
export function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
