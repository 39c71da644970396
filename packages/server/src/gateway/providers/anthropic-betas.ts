import type { TranslationWarning } from '@gatehouse/core';
import type { ProviderDialect } from './types.js';

/**
 * Anthropic's `anthropic-beta` header, for the adapters that speak Anthropic's dialect somewhere
 * (Anthropic, Bedrock, Vertex) and those that never do and so drop it (the rest).
 */

/** The comma-separated `anthropic-beta` header as a list. */
export function requestedBetas(header: string | string[] | undefined): string[] {
  return (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => beta !== '');
}

/** A warning per Anthropic beta a provider does not offer and that was therefore left out. */
export function droppedBetaWarnings(dropped: readonly string[]): TranslationWarning[] {
  return dropped.map((beta) => ({ kind: 'dropped', feature: `anthropic-beta:${beta}` }));
}

/**
 * The `requestWarnings` hook of an adapter: a call rendered in any dialect but Anthropic's carries
 * no betas, so the header the client sent is reported dropped, whole.
 */
export function betasDroppedOutsideAnthropic(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  dialect: ProviderDialect,
): TranslationWarning[] {
  const beta = headers['anthropic-beta'];
  if (beta === undefined || dialect === 'anthropic-messages') return [];
  return [{ kind: 'dropped', feature: `anthropic-beta:${String(beta)}` }];
}
