import type { NeutralFinishReason } from './neutral.js';

type Unified = NeutralFinishReason['unified'];

/** One dialect's words for why a model stopped, both ways. */
export interface FinishReasonVocabulary {
  /** The dialect's raw reason as a neutral one; an unknown word is `other`, kept raw. */
  toNeutral(raw: string | undefined): NeutralFinishReason;
  /** The raw reason when it is this dialect's own and agrees with the unified one; else the mapping. */
  fromNeutral(reason: NeutralFinishReason): string;
}

export function finishReasonVocabulary(
  unifiedByRaw: Readonly<Record<string, Unified>>,
  rawByUnified: Readonly<Record<Unified, string>>,
): FinishReasonVocabulary {
  return {
    toNeutral(raw) {
      if (raw === undefined) return { unified: 'other', raw: undefined };
      return { unified: unifiedByRaw[raw] ?? 'other', raw };
    },
    fromNeutral(reason) {
      const raw = reason.raw;
      if (raw !== undefined && unifiedByRaw[raw] === reason.unified) return raw;
      return rawByUnified[reason.unified];
    },
  };
}
