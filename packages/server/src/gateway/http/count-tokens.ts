import type { ServerResponse } from 'node:http';
import { type ApiKind, estimateTokens } from '@gatehouse/core';
import { WARNINGS_HEADER } from '../relay/translation/warnings.js';

/** The token-counting APIs, which a gateway can answer itself when no provider can. */
export function isCountTokensApi(api: ApiKind): api is 'anthropic-count-tokens' | 'gemini-count-tokens' {
  return api === 'anthropic-count-tokens' || api === 'gemini-count-tokens';
}

/**
 * Answers a token count locally, as an estimate, when the policy has no provider that counts
 * natively (Claude on Bedrock, say). Claude Code asks before every turn; an estimate flagged in
 * the warnings header serves it better than a 404.
 */
export function answerEstimatedCount(
  response: ServerResponse,
  api: 'anthropic-count-tokens' | 'gemini-count-tokens',
  body: Buffer,
  ownHeaders: Record<string, string>,
): void {
  const tokens = estimateTokens(body.toString('utf8'));
  const answer = JSON.stringify(
    api === 'anthropic-count-tokens' ? { input_tokens: tokens } : { totalTokens: tokens },
  );
  response.writeHead(200, {
    ...ownHeaders,
    [WARNINGS_HEADER]: 'approximated:count_tokens',
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(answer),
  });
  response.end(answer);
}
