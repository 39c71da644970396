import { type NeutralStreamEvent, tokensForCharacters, type Usage } from '@gatehouse/core';

/** Reads usage off neutral events, estimating from what was delivered when no finish came. */
export class NeutralMeter {
  finished = false;
  /** The provider reported an error inside the stream; the client was told in its own dialect. */
  errored = false;
  model: string | undefined;
  #reported: Usage | undefined;
  #startUsage: Usage | undefined;
  #deliveredCharacters = 0;
  readonly #estimatedInputTokens: number;

  constructor(estimatedInputTokens: number) {
    this.#estimatedInputTokens = estimatedInputTokens;
  }

  observe(event: NeutralStreamEvent): void {
    if (event.type === 'start') {
      this.model = event.model || undefined;
      this.#startUsage = event.usage;
    } else if (
      event.type === 'text-delta' ||
      event.type === 'reasoning-delta' ||
      event.type === 'tool-input-delta'
    ) {
      this.#deliveredCharacters += event.delta.length;
    } else if (event.type === 'error') {
      this.errored = true;
    } else if (event.type === 'finish') {
      this.finished = true;
      this.#reported = event.usage;
    }
  }

  usage(): Usage {
    if (this.#reported) return this.#reported;
    const input = this.#startUsage?.input ?? {
      total: this.#estimatedInputTokens,
      noCache: this.#estimatedInputTokens,
      cacheRead: 0,
      cacheWrite: 0,
    };
    const output = tokensForCharacters(this.#deliveredCharacters);
    return { input, output: { total: output, text: output, reasoning: 0 } };
  }
}
