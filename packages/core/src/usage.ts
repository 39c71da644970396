/**
 * Token usage in a dialect-neutral shape. Input and output are split by how they are priced:
 * exact cost needs exactly these parts, so nothing is summed away.
 */
export interface Usage {
  input: {
    /** Every input token, cached or not. */
    total: number;
    /** Input tokens read at the full input price. */
    noCache: number;
    /** Input tokens served from the provider's prompt cache. */
    cacheRead: number;
    /** Input tokens written into the provider's prompt cache. */
    cacheWrite: number;
  };
  output: {
    /** Every output token, visible text and reasoning together. */
    total: number;
    /** Visible output tokens. */
    text: number;
    /** Reasoning ("thinking") tokens, billed as output. */
    reasoning: number;
  };
}

export function emptyUsage(): Usage {
  return {
    input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
    output: { total: 0, text: 0, reasoning: 0 },
  };
}
