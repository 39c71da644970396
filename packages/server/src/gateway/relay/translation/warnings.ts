import type { TranslationWarning } from '@gatehouse/core';

/** The response header that tells a caller what translation had to drop or bend. */
export const WARNINGS_HEADER = 'x-gatehouse-warnings';

/** `dropped:top_k, approximated:cache_control` — short, stable, one entry per feature. */
export function warningsHeaderValue(warnings: readonly TranslationWarning[]): string | undefined {
  if (warnings.length === 0) return undefined;
  const entries = new Set(warnings.map((warning) => `${warning.kind}:${warning.feature}`));
  // Header values must stay printable ASCII.
  return [...entries].join(', ').replace(/[^\x20-\x7e]/g, '?');
}
