/**
 * What the codecs share for reporting: the warnings a translation collects and the error for an
 * input it cannot read. Kept once so every dialect words and deduplicates them alike.
 */
import { GatewayError } from '../errors.js';
import type { TranslationWarning } from './neutral.js';

/** The caller's input cannot be translated: a 400 in the caller's dialect. */
export function invalid(message: string): GatewayError {
  return new GatewayError('invalid_request', message);
}

/** Collects warnings, once per feature: a long conversation should not repeat one drop fifty times. */
export class Warnings {
  readonly list: TranslationWarning[] = [];
  readonly #seen = new Set<string>();

  add(kind: TranslationWarning['kind'], feature: string, detail?: string): void {
    const key = `${kind}:${feature}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push(detail === undefined ? { kind, feature } : { kind, feature, detail });
  }
}
