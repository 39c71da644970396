import { generateAdminToken, generateVirtualKey } from '@gatehouse/core';
import { describe, expect, it } from 'vitest';
import { REDACTED, redact } from './redact.js';

describe('audit redaction', () => {
  it('replaces fields named like secrets at any depth, and keeps flags that only say one exists', () => {
    expect(
      redact({
        name: 'openai',
        apiKey: 'sk-live',
        hasApiKey: true,
        settings: { clientSecret: 'cs', client_secret: 'cs2', 'private-key': { pem: 'x' } },
        list: [{ password: 'p', passwordLength: 8 }],
        secretAccessKey: 'aws',
        accessKeyId: 'AKIA',
        token: 'anything',
        tokenHint: 'gha_…Ab12',
        tokensPerMinute: 1000,
      }),
    ).toEqual({
      name: 'openai',
      apiKey: REDACTED,
      hasApiKey: true,
      settings: { clientSecret: REDACTED, client_secret: REDACTED, 'private-key': REDACTED },
      list: [{ password: REDACTED, passwordLength: 8 }],
      secretAccessKey: REDACTED,
      accessKeyId: 'AKIA',
      token: REDACTED,
      tokenHint: 'gha_…Ab12',
      tokensPerMinute: 1000,
    });
  });

  it("replaces Gatehouse's own keys and tokens wherever they appear in a string, under any name", () => {
    const key = generateVirtualKey();
    const adminToken = generateAdminToken();
    const refresh = `ghr_${'A'.repeat(43)}`;
    const scim = `ghs_${'b'.repeat(43)}`;
    expect(redact({ name: `copied ${key} here`, notes: [adminToken, `${refresh} and ${scim}`] })).toEqual({
      name: `copied ${REDACTED} here`,
      notes: [REDACTED, `${REDACTED} and ${REDACTED}`],
    });
  });

  it('leaves a word that only looks like a key (its checksum is wrong) as it is', () => {
    const key = generateVirtualKey();
    const lookalike = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(redact({ name: lookalike })).toEqual({ name: lookalike });
  });
});
