import { describe, expect, it } from 'vitest';
import { failureSummary } from './failure-summary.js';

describe('failureSummary', () => {
  it('says why a batch insert failed in one short line, without its query or parameters', () => {
    const batch = JSON.stringify(Array.from({ length: 500 }, (_, index) => ({ requestId: `req_${index}` })));
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const failure = new Error(
      `Failed query: insert into usage_events select * from json_populate_recordset\nparams: ${batch}`,
      {
        cause,
      },
    );
    const line = failureSummary(failure);
    expect(line).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432');
    expect(line).not.toContain('req_');
  });

  it('cuts a long message', () => {
    expect(failureSummary(new Error('x'.repeat(1_000))).length).toBe(200);
    expect(failureSummary('plain')).toBe('plain');
  });
});
