import { describe, expect, it } from 'vitest';
import type { Database } from '../../store/database.js';
import { AuditTrail } from './trail.js';

describe('the audit trail', () => {
  it('reports a write that fails and resolves, so the change it describes is still answered', async () => {
    const failures: string[] = [];
    const unreachable = {
      transaction: () => Promise.reject(new Error('database unreachable')),
    } as unknown as Database;
    const trail = new AuditTrail({
      db: unreachable,
      signer: { signCheckpoint: async () => 'jws' },
      now: () => new Date(),
      onError: (error, record) => failures.push(`${record.action}: ${(error as Error).message}`),
    });
    const actor = { kind: 'system', id: null, label: null } as const;
    await expect(
      trail.record({ organizationId: 'org_a', actor, action: 'budget.update' }),
    ).resolves.toBeUndefined();
    // The organisation's queue is not stuck behind the failure.
    await trail.record({ organizationId: 'org_a', actor, action: 'budget.delete' });
    expect(failures).toEqual(['budget.update: database unreachable', 'budget.delete: database unreachable']);
  });
});
